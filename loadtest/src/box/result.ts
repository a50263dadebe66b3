// box.json's shape and the text made from it, pure: the README's results block and the lines the run prints.
import type { MissingWorker } from "../load/report.js";
import type { BoxGoal } from "./plan.js";
import { goalLines } from "./plan.js";
import type { ProfileSummary } from "./profile.js";

/** Resident memory per process kind at one moment of the run, bytes (t: seconds since the load started). */
export interface RssSample {
  t: number;
  gateways: number;
  loadWorkers: number;
  redis: number;
}

export interface BoxResult {
  date: string;
  connectionsRequested: number;
  connectionsHeld: number;
  /** Connections whose subscribe was acknowledged (each counted once, however often it reconnected). */
  connectionsSubscribed: number;
  gateways: number;
  workers: number;
  /** Load workers whose result arrived; the others are in workersMissing, their figures absent from every count. */
  workersReported: number;
  workersMissing: MissingWorker[];
  channels: number;
  subscribersPerChannel: number;
  rampSeconds: number;
  holdSeconds: number;
  gatewayRssBytes: number;
  gatewayBytesPerConnection: number;
  workerRssBytes: number;
  redisRssBytes: number;
  /** The largest RSS each process kind reached (sampled every second over the load). */
  peakRssBytes: { gateways: number; loadWorkers: number; redis: number };
  publishRatePerSecond: number;
  /** Publishes the gateways did not accept (no offset: not counted as lost deliveries). */
  publishFailed: number;
  deliveriesPerSecond: number;
  /** How long the broadcast flowed. */
  broadcastSeconds: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  lost: number;
  duplicated: number;
  connectErrors: number;
  reconnects: number;
  /** Connections opened per second of the ramp (seconds with any connect), and the best single second. */
  connectRatePerSecond: number;
  peakConnectsPerSecond: number;
  /** CPU per process kind over the load (ramp + hold + settle), in cores on average: where the 2 cores went. */
  cpuCores: { gateways: number; loadWorkers: number; redis: number; publisher: number };
  /** The same CPU in seconds (user + system) over the load; `publisher` is the box process (publisher + coordinator). */
  cpuSeconds: { gateways: number; loadWorkers: number; redis: number; publisher: number };
  /** With --profile: the top self-time functions of the profiled gateway and load worker. */
  profiles?: ProfileSummary[];
  durationSeconds: number;
  /** Issue 14's goals, each with its figure and verdict; `pass` is all of them. */
  goals: BoxGoal[];
  pass: boolean;
  /** RSS per process kind over time (also charted in box.html). */
  rssTimeline: RssSample[];
}

/**
 * RSS per kind over time: the box's own samples of the gateways and Redis, each with the load workers' RSS the load
 * timeline had reported by then (both clocks count from the load's start).
 */
export function rssTimeline(
  samples: ReadonlyArray<{ t: number; gateways: number; redis: number }>,
  timeline: ReadonlyArray<{ t: number; workersRss: number }>,
): RssSample[] {
  let i = -1;
  return samples.map((s) => {
    while (i + 1 < timeline.length && (timeline[i + 1] as { t: number }).t <= s.t) i++;
    return {
      t: s.t,
      gateways: s.gateways,
      loadWorkers: i < 0 ? 0 : (timeline[i] as { workersRss: number }).workersRss,
      redis: s.redis,
    };
  });
}

/**
 * The gateways' RSS before any connection: the least of the reading at startup and the samples taken before the
 * first connection opened (a just-started process still settles: its startup reading alone can exceed its RSS later
 * and make the cost per connection negative).
 */
export function gatewayBaseline(
  startupRss: number,
  samples: ReadonlyArray<{ t: number; gateways: number }>,
  timeline: ReadonlyArray<{ t: number; held: number }>,
): number {
  const firstHeld = timeline.find((p) => p.held > 0)?.t ?? Number.POSITIVE_INFINITY;
  // A sample within a second of that tick may already include connections.
  const idle = samples.filter((s) => s.t < firstHeld - 1).map((s) => s.gateways);
  return Math.min(startupRss, ...idle);
}

/**
 * The sample that shows what the held connections cost: the last one taken while the broadcast still flowed (the
 * last second with deliveries; without a broadcast, a second before the load's last tick), before the teardown.
 */
export function endOfHoldSample<S extends { t: number }>(
  samples: readonly S[],
  timeline: ReadonlyArray<{ t: number; deliveriesPerSecond: number }>,
): S | undefined {
  const delivering = timeline.filter((p) => p.deliveriesPerSecond > 0);
  const end = delivering.at(-1)?.t ?? (timeline.at(-1)?.t ?? Number.POSITIVE_INFINITY) - 1;
  return samples.filter((s) => s.t <= end).at(-1) ?? samples.at(-1);
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const n = (value: number) => value.toLocaleString("en-US");

/** The README's box results: the figures of the last run, as a table, and the goals' verdict. */
export function boxResultsBlock(r: BoxResult): string {
  const rows: Array<[string, string]> = [
    [
      "connections held",
      `${n(r.connectionsHeld)} of ${n(r.connectionsRequested)} (${n(r.connectionsSubscribed)} subscribed)`,
    ],
    ["processes", `${r.gateways} gateways (Redis broker) + ${r.workers} load workers + redis-server`],
    [
      "gateway memory",
      `${mb(r.gatewayRssBytes)} RSS in total, ${r.gatewayBytesPerConnection} B per connection over their baseline`,
    ],
    ["load worker memory", mb(r.workerRssBytes)],
    ["Redis memory", mb(r.redisRssBytes)],
    [
      "broadcast",
      `${r.publishRatePerSecond} msg/s over ${r.channels} channels (${n(r.subscribersPerChannel)} subscribers each) → ` +
        `${n(r.deliveriesPerSecond)} deliveries/s for ${r.broadcastSeconds} s`,
    ],
    ["latency", `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, p999 ${r.p999Ms} ms`],
    [
      "loss",
      `${r.lost} lost, ${r.duplicated} duplicated, ${r.connectErrors} connect errors, ${r.reconnects} reconnects, ${r.publishFailed} failed publishes`,
    ],
    [
      "connect rate",
      `${n(r.connectRatePerSecond)}/s over the ramp, best second ${n(r.peakConnectsPerSecond)}/s`,
    ],
    [
      "CPU (cores, mean over the load)",
      `gateways ${r.cpuCores.gateways}, load workers ${r.cpuCores.loadWorkers}, Redis ${r.cpuCores.redis}, publisher ${r.cpuCores.publisher}`,
    ],
    ...(r.workersMissing.length > 0
      ? ([["load workers missing", missingText(r)]] as Array<[string, string]>)
      : []),
  ];
  return [
    `Last run (\`make box\`, ${r.date.slice(0, 10)}, ${r.durationSeconds} s, on this 2-core machine shared with other work):`,
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "```",
    ...goalLines(r.goals),
    "```",
  ].join("\n");
}

function missingText(r: BoxResult): string {
  return (
    `${r.workersMissing.length} of ${r.workers} did not report (their figures are missing): ` +
    r.workersMissing
      .map((m) => `worker ${m.workerIndex} (${n(m.connections)} connections) ${m.reason}`)
      .join("; ")
  );
}

/** What the run prints at the end: the figures, then each goal with its verdict. */
export function boxSummaryLines(r: BoxResult, json: string): string[] {
  return [
    `box: held ${r.connectionsHeld} of ${r.connectionsRequested} connections (${r.connectionsSubscribed} subscribed) on ${r.gateways} gateways (${r.workers} load workers)`,
    `box: memory: gateways ${mb(r.gatewayRssBytes)} (${r.gatewayBytesPerConnection} B/conn over their baseline), ` +
      `load workers ${mb(r.workerRssBytes)}, redis ${mb(r.redisRssBytes)}`,
    `box: broadcast: ${r.publishRatePerSecond} msg/s × ${r.subscribersPerChannel} subscribers → ${r.deliveriesPerSecond} deliveries/s for ${r.broadcastSeconds} s, ` +
      `latency p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms p999 ${r.p999Ms} ms`,
    `box: connect rate ${r.connectRatePerSecond}/s over the ramp (best second ${r.peakConnectsPerSecond}/s); ` +
      `CPU cores: gateways ${r.cpuCores.gateways}, load workers ${r.cpuCores.loadWorkers}, redis ${r.cpuCores.redis}, publisher ${r.cpuCores.publisher}`,
    `box: loss: ${r.lost} lost, ${r.duplicated} duplicated; ${r.connectErrors} connect errors, ${r.reconnects} reconnects, ` +
      `${r.publishFailed} failed publishes; ${r.durationSeconds} s`,
    ...(r.workersMissing.length > 0 ? [`box: load workers: ${missingText(r)}`] : []),
    ...goalLines(r.goals).map((line) => `box: ${line}`),
    `box: ${r.pass ? "PASS" : "FAIL"} (wrote ${json})`,
  ];
}
