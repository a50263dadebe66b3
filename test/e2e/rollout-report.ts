// The rolling deploy's figures and checks, pure: the rollout's facts (test/e2e/rollout.ts) and the run's per-second
// samples in, its duration, reconnects (total, peak/s, mean/s), loss and failures out. The rate window is the
// stretch in which the rollout's drains can cause reconnects: from the first old pod's drain start (its deletion +
// preStop) to the last one's end (deletion + preStop + drain + the reconnect jitter the gateway hands out). The
// peak is the highest rate over PEAK_SECONDS consecutive seconds: a client process starved of CPU on a shared
// machine stalls a second or two, then handles the welcomes in a bunch, which is the harness's noise, while a
// storm (a drain's clients told to come back at once) still stands out: the 3,000 reconnects of a 30 s rollout in
// one second are 600/s over five, 6× the mean. The 1-second peak is reported too.
import { reconnectJitterMs } from "../../gateway/src/drain.js";
import type { PodDeletion, Sample } from "./report.js";

export const PEAK_SECONDS = 5;

export interface OldPod {
  pod: string;
  /** Seconds since the run started; undefined while it still runs. */
  exitedAt: number | undefined;
  code: number | null;
  signal: string | null;
}

export interface RolloutFacts {
  /** When the pod template changed (seconds since the run started). */
  from: number;
  /** When every pod ran the new template and was ready; undefined when the rollout did not finish in time. */
  to: number | undefined;
  /** The strategy as rendered on the Deployment, resolved against its replicas. */
  maxSurge: number;
  maxUnavailable: number;
  /** The Deployment's minReadySeconds: how long a wave's new pods stay Ready before the next wave goes. */
  minReadySeconds: number;
  replicas: number;
  /** Every pod of the old template running when the template changed. */
  oldPods: OldPod[];
}

export function summarizeRollout(
  r: RolloutFacts,
  samples: Sample[],
  deletions: PodDeletion[],
  timing: { preStopSeconds: number; drainSeconds: number },
) {
  const oldNames = new Set(r.oldPods.map((p) => p.pod));
  const removals = deletions.filter((d) => oldNames.has(d.pod));
  const jitter = reconnectJitterMs(timing.drainSeconds * 1000) / 1000;
  const starts = removals.map((d) => d.t + timing.preStopSeconds);
  const windowFrom = starts.length > 0 ? Math.min(...starts) : r.from;
  const windowTo =
    starts.length > 0 ? Math.max(...starts) + timing.drainSeconds + Math.ceil(jitter) : (r.to ?? r.from);
  const inWindow = samples.filter((s) => s.t >= windowFrom && s.t < windowTo);
  const rateTotal = inWindow.reduce((a, s) => a + s.reconnects, 0);
  // Frames and reconnects are counted from the template change on: a deletion's second is rounded, so the first
  // frames can fall in the second before the rate window.
  const sinceChange = samples.filter((s) => s.t >= r.from && s.t < windowTo);
  const reconnects = sinceChange.reduce((a, s) => a + s.reconnects, 0);
  const moveNotices = sinceChange.reduce((a, s) => a + s.moveNotices, 0);
  const peak1s = inWindow.reduce((m, s) => Math.max(m, s.reconnects), 0);
  let peak = 0;
  for (let i = 0; i + PEAK_SECONDS <= inWindow.length; i++) {
    const run = inWindow.slice(i, i + PEAK_SECONDS).reduce((a, s) => a + s.reconnects, 0);
    peak = Math.max(peak, run / PEAK_SECONDS);
  }
  if (inWindow.length < PEAK_SECONDS) peak = peak1s;
  const mean = inWindow.length > 0 ? rateTotal / inWindow.length : 0;
  // Deliveries from the template change to the end of the last drain (or the rollout's end, if later).
  const lossTo = Math.max(windowTo, r.to ?? windowTo);
  const before = [...samples].reverse().find((s) => s.t <= r.from);
  const after = samples.find((s) => s.t >= lossTo) ?? samples.at(-1);
  const delta = (k: "gaps" | "duplicated" | "outOfOrder") => (after?.[k] ?? 0) - (before?.[k] ?? 0);
  const notDrained = r.oldPods
    .filter((p) => {
      const removed = removals.some((d) => d.pod === p.pod);
      return !removed || p.exitedAt === undefined || p.code !== 0 || p.signal !== null;
    })
    .map((p) => `${p.pod} (${p.exitedAt === undefined ? "still running" : `exit ${p.code ?? p.signal}`})`);
  return {
    from: r.from,
    to: r.to ?? null,
    durationSeconds: r.to === undefined ? null : r.to - r.from,
    replicas: r.replicas,
    maxSurge: r.maxSurge,
    maxUnavailable: r.maxUnavailable,
    minReadySeconds: r.minReadySeconds,
    oldPods: r.oldPods.length,
    oldPodsNotDrained: notDrained,
    /** Clients on the old pods when each was picked (its own /api/stats during preStop). */
    clientsOnOldPods: removals.reduce((a, d) => a + (d.connections ?? 0), 0),
    moveNotices,
    reconnects,
    reconnectPeakPerSecond: Math.round(peak * 10) / 10,
    reconnectPeak1sPerSecond: peak1s,
    reconnectMeanPerSecond: Math.round(mean * 10) / 10,
    reconnectWindow: { from: windowFrom, to: windowTo },
    /** Attempts in the rate window that closed before they opened (each costs a client a connect, no reconnect). */
    failedConnects: inWindow.reduce((a, s) => a + s.failedConnects, 0),
    /** Over the rate window: the longest client-process stall, and how busy the machine was (mean, 0-1). */
    clientLoopDelayMaxMs: inWindow.reduce((m, s) => Math.max(m, s.clientLoopDelayMaxMs), 0),
    machineCpuBusyMean:
      inWindow.length > 0
        ? Math.round((inWindow.reduce((a, s) => a + s.machineCpuBusy, 0) / inWindow.length) * 100) / 100
        : 0,
    published: (after?.published ?? 0) - (before?.published ?? 0),
    delivered: samples.filter((s) => s.t > r.from && s.t <= lossTo).reduce((a, s) => a + s.messages, 0),
    lost: delta("gaps"),
    duplicated: delta("duplicated"),
    outOfOrder: delta("outOfOrder"),
  };
}
export type RolloutSummary = ReturnType<typeof summarizeRollout>;

/** What must hold for the rolling deploy; each failure a readable sentence. */
export function rolloutVerdict(s: RolloutSummary): string[] {
  const fail: string[] = [];
  if (s.durationSeconds === null) fail.push("the rollout did not finish: old pods still ran at the deadline");
  if (s.oldPods === 0) fail.push("the rollout replaced no pod");
  if (s.oldPods !== s.replicas)
    fail.push(`${s.oldPods} old pod(s) ran when the template changed, for ${s.replicas} replicas`);
  if (s.oldPodsNotDrained.length > 0)
    fail.push(`old pod(s) not drained gracefully by the rollout: ${s.oldPodsNotDrained.join(", ")}`);
  if (s.moveNotices < s.clientsOnOldPods)
    fail.push(`${s.moveNotices} reconnect frame(s) for ${s.clientsOnOldPods} clients on the old pods`);
  if (s.reconnects < s.clientsOnOldPods * 0.95)
    fail.push(
      `${s.reconnects} reconnect(s) for ${s.clientsOnOldPods} clients on the old pods: clients did not move`,
    );
  if (s.reconnectMeanPerSecond === 0) fail.push("no reconnects during the rollout");
  else if (s.reconnectPeakPerSecond > 2 * s.reconnectMeanPerSecond)
    fail.push(
      `reconnect storm during the rollout: peak ${s.reconnectPeakPerSecond}/s (over ${PEAK_SECONDS} s) > 2 × mean ${s.reconnectMeanPerSecond}/s`,
    );
  if (s.lost !== 0) fail.push(`${s.lost} message(s) lost during the rollout`);
  if (s.duplicated !== 0) fail.push(`${s.duplicated} message(s) duplicated during the rollout`);
  if (s.outOfOrder !== 0) fail.push(`${s.outOfOrder} message(s) out of order during the rollout`);
  if (s.published === 0) fail.push("nothing was published during the rollout");
  return fail;
}
