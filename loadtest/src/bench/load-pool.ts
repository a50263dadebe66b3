// The bench's load side, shared by every scenario: worker pools that open subscribed connections to a system,
// the publisher each system is fed through, closed-loop publishing, merged latency histograms, settled RSS.
import { decodeFromCompressedBase64 } from "hdr-histogram-js";
import type { DialectName } from "../load/dialect.js";
import type { WorkerConfig, WorkerResult } from "../load/ipc.js";
import { sourceAddresses, splitConnections } from "../load/plan.js";
import { httpPublisher, type Publisher } from "../load/publisher.js";
import { sumTicks } from "../load/report.js";
import { WorkerPool } from "../load/worker-pool.js";
import { BENCH_API_KEY, type ServerProcess, SOKETI_APP, type SystemName } from "./processes.js";
import { pusherPublisher } from "./pusher-publisher.js";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

export function dialectOf(system: SystemName): DialectName {
  if (system === "socketio") return "socketio";
  if (system === "soketi") return "pusher";
  return "rtgw";
}

/** How each system is published to: its HTTP publish endpoint (Soketi: the Pusher HTTP API, signed). */
export function publisherFor(system: SystemName, servers: readonly ServerProcess[]): Publisher {
  const bases = servers.map((s) => `http://127.0.0.1:${s.port}`);
  return system === "soketi" ? pusherPublisher(bases, SOKETI_APP) : httpPublisher(bases, BENCH_API_KEY);
}

export interface LoadSpec {
  system: SystemName;
  targets: string[];
  connections: number;
  channels: string[];
  mode: "track" | "count";
  workers: number;
  deadlineSeconds: number;
  /** Index of the first worker: pools open side by side need disjoint source addresses. */
  firstWorker?: number;
  /** Concurrent handshakes per worker (256 unless told). */
  maxPendingConnects?: number;
}

/** The workers' configs for a spec: shares, source addresses, no ramp, no reconnects. */
export function workerConfigs(spec: LoadSpec): WorkerConfig[] {
  const firstWorker = spec.firstWorker ?? 0;
  return splitConnections(spec.connections, spec.workers).map((share, i) => ({
    workerIndex: firstWorker + i,
    targets: spec.targets,
    dialect: dialectOf(spec.system),
    first: share.first,
    connections: share.count,
    sourceAddresses: sourceAddresses(firstWorker + i, share.count),
    rampSeconds: 0,
    channels: spec.channels,
    mode: spec.mode,
    reportIntervalMs: 50,
    deadlineMs: spec.deadlineSeconds * 1000,
    maxPendingConnects: spec.maxPendingConnects ?? 256,
    reconnect: false,
  }));
}

// Channel names stay within Pusher's alphabet (letters, digits, _ - = @ , . ;) so every system takes them.
/** Forks workers for `spec` and waits until every connection is subscribed (at most 90 s). */
export async function openLoad(spec: LoadSpec): Promise<WorkerPool> {
  const configs = workerConfigs(spec);
  const pool = new WorkerPool(configs);
  pool.start();
  const until = Date.now() + 90_000;
  for (;;) {
    const total = sumTicks([...pool.latest.values()]);
    if (pool.latest.size === configs.length && total.subscribed >= spec.connections) return pool;
    if (total.connectErrors > 0 || pool.lost > 0 || Date.now() > until) {
      pool.kill();
      throw new Error(
        `${spec.system}: only ${total.subscribed} of ${spec.connections} connections subscribed (${total.connectErrors} connect errors)`,
      );
    }
    await sleep(100);
  }
}

export async function closePool(pool: WorkerPool): Promise<WorkerResult[]> {
  const results = await pool.finish({}, 10_000);
  pool.kill();
  return results;
}

/** Deliveries counted so far over several pools. */
export function deliveredIn(pools: readonly WorkerPool[]): number {
  let delivered = 0;
  for (const pool of pools) delivered += sumTicks([...pool.latest.values()]).delivered;
  return delivered;
}

/** p50/p99 (ms) over every delivery the results recorded; null without samples. */
export function latencyOf(results: readonly WorkerResult[]): { p50: number | null; p99: number | null } {
  const merged = decodeFromCompressedBase64(results[0]?.latencyHistogram ?? "");
  for (const result of results.slice(1)) merged.add(decodeFromCompressedBase64(result.latencyHistogram));
  if (merged.totalCount === 0) return { p50: null, p99: null };
  const ms = (percentile: number) => Math.round(merged.getValueAtPercentile(percentile)) / 1000;
  return { p50: ms(50), p99: ms(99) };
}

/** RSS once it stops moving (two readings 500 ms apart within 0.5%), or the last reading after 8 s. */
export async function settledRss(server: ServerProcess): Promise<number> {
  let previous = server.rss();
  for (let i = 0; i < 16; i++) {
    await sleep(500);
    const now = server.rss();
    if (Math.abs(now - previous) <= previous * 0.005) return now;
    previous = now;
  }
  return previous;
}

export interface ClosedLoop {
  publisher: Publisher;
  channels: readonly string[];
  /** Subscribers each message reaches (per channel, the same on every channel). */
  subscribersPerMessage: number;
  delivered: () => number;
  /** Messages published but not yet delivered to every subscriber, at most. */
  window: number;
  measureSeconds: number;
  /** Publish requests in flight at most (16 unless told). */
  maxInFlight?: number;
}

/**
 * Publish round robin over the channels as fast as delivery allows: keep at most `window` messages not yet
 * delivered to every subscriber (so no server is pushed into its slow-consumer limits), and measure
 * deliveries/s after a one-second warm-up.
 */
export async function closedLoopDeliveries(loop: ClosedLoop): Promise<number> {
  const MAX_IN_FLIGHT = loop.maxInFlight ?? 16;
  let sent = 0;
  let inFlight = 0;
  let failed = 0;
  let firstError = "";
  const base = loop.delivered();
  const warmupEnd = Date.now() + 1_000;
  const end = warmupEnd + loop.measureSeconds * 1000;
  let mark: { at: number; delivered: number } | null = null;
  while (Date.now() < end) {
    if (mark === null && Date.now() >= warmupEnd) mark = { at: Date.now(), delivered: loop.delivered() };
    // Messages sent (including those in flight) that have not reached every subscriber yet.
    const behind = () => sent - (loop.delivered() - base) / loop.subscribersPerMessage;
    while (behind() < loop.window && inFlight < MAX_IN_FLIGHT) {
      inFlight++;
      const channel = loop.channels[sent % loop.channels.length] as string;
      sent++;
      loop.publisher
        .publish(channel, `{"ts":${performance.timeOrigin + performance.now()},"seq":${sent}}`)
        .then(
          () => inFlight--,
          (error: unknown) => {
            inFlight--;
            failed++;
            firstError ||= error instanceof Error ? error.message : String(error);
          },
        );
    }
    await sleep(2);
  }
  if (failed > 0) log(`${failed} publishes failed (first: ${firstError})`);
  if (!mark) return 0;
  return Math.round((loop.delivered() - mark.delivered) / ((Date.now() - mark.at) / 1000));
}
