// The load report, pure: worker ticks, results and publish stats in; the JSON the run writes out.
import { build, decodeFromCompressedBase64 } from "hdr-histogram-js";
import type { WorkerResult, WorkerTick } from "./ipc.js";
import { quantileSorted } from "./plan.js";
import type { PublishStats } from "./publisher.js";

export interface TimelinePoint {
  /** Seconds since the run started. */
  t: number;
  held: number;
  connectsPerSecond: number;
  deliveriesPerSecond: number;
  /** The worst worker's latency percentiles over its last tick interval (workers carry even shares of every channel). */
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  /** Resident memory of all load workers together, bytes. */
  workersRss: number;
}

/** A load worker whose result never arrived: its figures are not in the report, and why. */
export interface MissingWorker {
  workerIndex: number;
  /** The connections it was to open (its share of the run). */
  connections: number;
  reason: string;
}

/** How a worker ended, as the pool saw it: still running at the deadline, or its exit code / signal. */
export interface WorkerEnd {
  code: number | null;
  signal: string | null;
}

/**
 * The workers without a result, each named with why: it died (code or signal) or it was still running when the
 * coordinator stopped waiting. Pure, so the box and `rtgw load` name them the same way.
 */
export function missingWorkers(
  shares: ReadonlyArray<{ workerIndex: number; connections: number }>,
  reported: ReadonlySet<number>,
  ends: ReadonlyMap<number, WorkerEnd>,
  waitedMs: number,
): MissingWorker[] {
  return shares
    .filter((s) => !reported.has(s.workerIndex))
    .map((s) => {
      const end = ends.get(s.workerIndex);
      const reason =
        end === undefined
          ? `no result within ${Math.round(waitedMs / 1000)} s of the finish`
          : end.signal !== null
            ? `died (${end.signal}) before reporting`
            : `exited with code ${end.code} before reporting`;
      return { workerIndex: s.workerIndex, connections: s.connections, reason };
    });
}

export interface LoadReport {
  startedAt: string;
  /** Load workers started, and those whose result never came (their figures are missing from every count). */
  workers: { started: number; reported: number };
  workersMissing: MissingWorker[];
  durationSeconds: number;
  config: Record<string, unknown>;
  connections: {
    requested: number;
    opened: number;
    peakHeld: number;
    heldAtEnd: number;
    /** Connections whose subscribe was acknowledged, each once (a reconnect's resubscribe is not counted again). */
    subscribed: number;
    connectErrors: number;
    connectRatePerSecond: number;
    closeCodes: Record<string, number>;
    errorSamples: string[];
  };
  /** `seconds`: how long the broadcast ran (the hold, plus the wait for the last answers). */
  publish: Omit<PublishStats, "finalOffsets"> & { ratePerSecond: number; seconds: number };
  deliveries: { total: number; perSecond: number };
  latencyMs: {
    count: number;
    p50: number | null;
    p99: number | null;
    p999: number | null;
    max: number | null;
    mean: number | null;
  };
  /** Buckets for the chart: upper bound in ms, count. */
  latencyBuckets: Array<{ upToMs: number; count: number }>;
  loss: { lost: number; duplicated: number };
  reconnects: {
    count: number;
    firstAtSeconds: number | null;
    p50AtSeconds: number | null;
    lastAtSeconds: number | null;
    spreadSeconds: number | null;
  };
  timeline: TimelinePoint[];
}

/** Sum of the workers' last ticks. */
export function sumTicks(ticks: readonly WorkerTick[]): Omit<WorkerTick, "type" | "workerIndex" | "atMs"> {
  const sum = {
    started: 0,
    opened: 0,
    held: 0,
    subscribed: 0,
    connectErrors: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    reconnects: 0,
    rss: 0,
  };
  const worst = { intervalP50Ms: null, intervalP99Ms: null, intervalP999Ms: null } as Record<
    "intervalP50Ms" | "intervalP99Ms" | "intervalP999Ms",
    number | null
  >;
  for (const tick of ticks) {
    for (const key of Object.keys(sum) as Array<keyof typeof sum>) sum[key] += tick[key];
    for (const key of Object.keys(worst) as Array<keyof typeof worst>) {
      const value = tick[key];
      if (value !== null) worst[key] = Math.max(worst[key] ?? 0, value);
    }
  }
  return {
    ...sum,
    intervalP50Ms: worst.intervalP50Ms,
    intervalP99Ms: worst.intervalP99Ms,
    intervalP999Ms: worst.intervalP999Ms,
  };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

type Histogram = ReturnType<typeof decodeFromCompressedBase64>;

/** How many recorded values are at most `value` (the library exposes percentiles, not counts: bisect them). */
function countAtOrBelow(histogram: Histogram, value: number): number {
  let low = 0;
  let high = 100;
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    if (histogram.getValueAtPercentile(mid) <= value) low = mid;
    else high = mid;
  }
  return Math.round((histogram.totalCount * low) / 100);
}

/** Latency buckets on a log scale (doubling from 0.125 ms), from a histogram in microseconds. */
function buckets(histogram: Histogram): Array<{ upToMs: number; count: number }> {
  const out: Array<{ upToMs: number; count: number }> = [];
  if (histogram.totalCount === 0) return out;
  let below = 0;
  for (let upper = 125; out.length < 40; upper *= 2) {
    const atOrBelow = upper >= histogram.maxValue ? histogram.totalCount : countAtOrBelow(histogram, upper);
    out.push({ upToMs: upper / 1000, count: atOrBelow - below });
    below = atOrBelow;
    if (upper >= histogram.maxValue) break;
  }
  return out;
}

export function buildReport(input: {
  startedAt: number;
  endedAt: number;
  config: Record<string, unknown>;
  requested: number;
  results: readonly WorkerResult[];
  publish: PublishStats;
  publishSeconds: number;
  timeline: TimelinePoint[];
  /** Seconds the workers were delivering (publishing window plus the settle), for deliveries/s. */
  deliverySeconds: number;
  /** Workers started (the results are those that reported) and those that did not; none: every one reported. */
  workersStarted?: number;
  workersMissing?: MissingWorker[];
}): LoadReport {
  const totals = sumTicks(input.results.map((r) => r.tick));
  const first = input.results[0];
  // No worker reported: an empty histogram (an empty string is not a histogram the library decodes).
  const merged = first
    ? decodeFromCompressedBase64(first.latencyHistogram)
    : build({
        lowestDiscernibleValue: 1,
        highestTrackableValue: 120_000_000,
        numberOfSignificantValueDigits: 3,
      });
  for (const result of input.results.slice(1))
    merged.add(decodeFromCompressedBase64(result.latencyHistogram));
  const workersMissing = input.workersMissing ?? [];
  const count = merged.totalCount;
  const atMs = (percentile: number) =>
    count > 0 ? round3(merged.getValueAtPercentile(percentile) / 1000) : null;
  const closeCodes: Record<string, number> = {};
  for (const result of input.results) {
    for (const [code, n] of Object.entries(result.closeCodes)) closeCodes[code] = (closeCodes[code] ?? 0) + n;
  }
  const reconnectTimes = input.results.flatMap((r) => r.reconnectTimes).sort((a, b) => a - b);
  const firstReconnect = quantileSorted(reconnectTimes, 0);
  const last = quantileSorted(reconnectTimes, 1);
  const ramp = input.timeline.filter((p) => p.connectsPerSecond > 0);
  const rampSeconds = Math.max(1, ramp.length);
  const { finalOffsets: _finalOffsets, ...publish } = input.publish;
  return {
    startedAt: new Date(input.startedAt).toISOString(),
    durationSeconds: round3((input.endedAt - input.startedAt) / 1000),
    workers: {
      started: input.workersStarted ?? input.results.length + workersMissing.length,
      reported: input.results.length,
    },
    workersMissing,
    config: input.config,
    connections: {
      requested: input.requested,
      opened: totals.opened,
      peakHeld: Math.max(0, ...input.timeline.map((p) => p.held)),
      heldAtEnd: totals.held,
      subscribed: totals.subscribed - totals.reconnects,
      connectErrors: totals.connectErrors,
      connectRatePerSecond: Math.round(totals.opened / rampSeconds),
      closeCodes,
      errorSamples: [...new Set(input.results.flatMap((r) => r.errorSamples))].slice(0, 10),
    },
    publish: {
      ...publish,
      ratePerSecond: input.publishSeconds > 0 ? Math.round(input.publish.acked / input.publishSeconds) : 0,
      seconds: round3(input.publishSeconds),
    },
    deliveries: {
      total: totals.delivered,
      perSecond: input.deliverySeconds > 0 ? Math.round(totals.delivered / input.deliverySeconds) : 0,
    },
    latencyMs: {
      count,
      p50: atMs(50),
      p99: atMs(99),
      p999: atMs(99.9),
      max: count > 0 ? round3(merged.maxValue / 1000) : null,
      mean: count > 0 ? round3(merged.mean / 1000) : null,
    },
    latencyBuckets: buckets(merged),
    loss: { lost: totals.lost, duplicated: totals.duplicated },
    reconnects: {
      count: totals.reconnects,
      firstAtSeconds: firstReconnect,
      p50AtSeconds: quantileSorted(reconnectTimes, 0.5),
      lastAtSeconds: last,
      spreadSeconds: firstReconnect === null || last === null ? null : round3(last - firstReconnect),
    },
    timeline: input.timeline,
  };
}

export function summaryLines(report: LoadReport): string[] {
  const c = report.connections;
  const l = report.latencyMs;
  const r = report.reconnects;
  const missing = report.workersMissing;
  return [
    ...(missing.length > 0
      ? [
          `workers      only ${report.workers.reported} of ${report.workers.started} reported; every figure below leaves out ` +
            missing
              .map((m) => `worker ${m.workerIndex} (${m.connections} connections: ${m.reason})`)
              .join(", "),
        ]
      : []),
    `connections  ${c.opened} opened of ${c.requested}, peak held ${c.peakHeld}, ${c.connectErrors} connect errors, ~${c.connectRatePerSecond}/s`,
    `publish      ${report.publish.acked} acked of ${report.publish.sent} sent (${report.publish.failed} failed, ${report.publish.skipped} skipped), ${report.publish.ratePerSecond}/s`,
    `deliveries   ${report.deliveries.total} total, ${report.deliveries.perSecond}/s`,
    `latency      p50 ${l.p50 ?? "-"} ms  p99 ${l.p99 ?? "-"} ms  p999 ${l.p999 ?? "-"} ms  max ${l.max ?? "-"} ms (${l.count} samples)`,
    `loss         ${report.loss.lost} lost, ${report.loss.duplicated} duplicated`,
    `reconnects   ${r.count}${r.count > 0 ? ` between ${r.firstAtSeconds}s and ${r.lastAtSeconds}s (spread ${r.spreadSeconds}s, median at ${r.p50AtSeconds}s)` : ""}`,
  ];
}
