// The frontier, pure: box runs at a few message rates in, the deliveries/s at which the p99 crosses the goal out.
// Where the box cannot carry issue 14's 110,000 deliveries/s, this is the measured limit the README reports.
import { BOX_GOALS } from "./plan.js";

export interface FrontierPoint {
  publishRate: number;
  connections: number;
  deliveriesPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  lost: number;
  duplicated: number;
  workersMissing: number;
  /** CPU cores per kind over the run (mean), where the 2 cores went at this rate. */
  cpuCores: { gateways: number; loadWorkers: number; redis: number; publisher: number };
}

export interface Frontier {
  /** The most deliveries/s any run carried with p99 within the goal (and nothing lost, no worker missing). */
  lastWithinGoal: FrontierPoint | null;
  /** The fewest deliveries/s at which the p99 went over the goal. */
  firstOverGoal: FrontierPoint | null;
}

const within = (p: FrontierPoint) =>
  p.p99Ms !== null &&
  p.p99Ms <= BOX_GOALS.p99Ms &&
  p.lost === 0 &&
  p.duplicated === 0 &&
  p.workersMissing === 0;

export function findFrontier(points: readonly FrontierPoint[]): Frontier {
  const byDeliveries = [...points].sort((a, b) => a.deliveriesPerSecond - b.deliveriesPerSecond);
  return {
    lastWithinGoal: byDeliveries.filter(within).at(-1) ?? null,
    firstOverGoal: byDeliveries.find((p) => !within(p)) ?? null,
  };
}

const n = (value: number) => value.toLocaleString("en-US");

export function frontierLines(points: readonly FrontierPoint[]): string[] {
  const f = findFrontier(points);
  const rows = [...points]
    .sort((a, b) => a.publishRate - b.publishRate)
    .map(
      (p) =>
        `  ${String(p.publishRate).padStart(4)} msg/s  ${n(p.deliveriesPerSecond).padStart(9)} deliveries/s  ` +
        `p50 ${p.p50Ms ?? "-"} ms  p99 ${p.p99Ms ?? "-"} ms  ${p.lost} lost  ${p.duplicated} dup` +
        `${p.workersMissing > 0 ? `  ${p.workersMissing} workers missing` : ""}  ` +
        `cores: gateways ${p.cpuCores.gateways}, workers ${p.cpuCores.loadWorkers}, redis ${p.cpuCores.redis}, publisher ${p.cpuCores.publisher}`,
    );
  const verdict =
    f.lastWithinGoal &&
    f.firstOverGoal &&
    f.firstOverGoal.deliveriesPerSecond > f.lastWithinGoal.deliveriesPerSecond
      ? `frontier: p99 ≤ ${BOX_GOALS.p99Ms} ms up to ${n(f.lastWithinGoal.deliveriesPerSecond)} deliveries/s; over it at ${n(f.firstOverGoal.deliveriesPerSecond)}/s`
      : f.lastWithinGoal && !f.firstOverGoal
        ? `frontier: not reached: p99 ≤ ${BOX_GOALS.p99Ms} ms at every rate, up to ${n(f.lastWithinGoal.deliveriesPerSecond)} deliveries/s`
        : f.firstOverGoal && !f.lastWithinGoal
          ? `frontier: below every rate: p99 over ${BOX_GOALS.p99Ms} ms (or loss) already at ${n(f.firstOverGoal.deliveriesPerSecond)} deliveries/s`
          : `frontier: not monotonic (a lower rate failed, a higher one passed): rerun on a quiet machine`;
  return [`frontier at ${n(points[0]?.connections ?? 0)} connections:`, ...rows, verdict];
}
