// `rtgw bench` / `make bench`: our gateway, Socket.IO + redis-adapter and bare uWS.js, one after the other in
// one run on this machine, through the same load workers and publisher. Four scenarios per system:
//   1. idle memory: server RSS delta / N at N subscribed, silent connections
//   2. fan-out: closed-loop publishing to one channel with many subscribers; deliveries/s
//   3. latency: publish-to-receive p50/p99 at a fixed moderate rate
//   4. cross-process: two server processes sharing one Redis; publish on one, receive on both
import { readFile, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeFromCompressedBase64 } from "hdr-histogram-js";
import type { DialectName } from "../load/dialect.js";
import type { WorkerConfig } from "../load/ipc.js";
import { channelNames, sourceAddresses, splitConnections } from "../load/plan.js";
import { httpPublisher, type Publisher, publishAtRate } from "../load/publisher.js";
import { sumTicks } from "../load/report.js";
import { WorkerPool } from "../load/worker-pool.js";
import {
  BENCH_API_KEY,
  type ServerProcess,
  type SystemName,
  startRedisServer,
  startSystem,
  wsUrlOf,
} from "./processes.js";
import {
  type BenchResults,
  LABELS,
  markdownTable,
  replaceResultsBlock,
  resultsBlock,
  type SystemFigures,
  verdict,
} from "./results.js";

export const SCENARIOS = ["memory", "fanout", "latency", "cross"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  systems: string[];
  /** Which scenarios to run (all by default); a partial run writes no files. */
  scenarios?: readonly Scenario[];
  json: string;
  readme: string;
}

interface Sizes {
  idleConnections: number;
  fanoutSubscribers: number;
  latencySubscribers: number;
  latencyChannels: number;
  latencyRate: number;
  crossSubscribers: number;
  measureSeconds: number;
  workers: number;
  /**
   * Fan-out pipeline depth: messages published but not yet delivered to every subscriber. Deep enough that
   * servers and clients batch (the figure rises with it: 20 → 100 → 300 gave 0.34M → 0.45M → 0.67M/s for
   * bare uWS here), bounded so no socket queues more than ~25 KB.
   */
  fanoutWindow: number;
}
const FULL: Sizes = {
  idleConnections: 15_000,
  fanoutSubscribers: 10_000,
  latencySubscribers: 1_000,
  latencyChannels: 10,
  latencyRate: 100,
  crossSubscribers: 10_000,
  measureSeconds: 8,
  workers: 2,
  fanoutWindow: 256,
};
const QUICK: Sizes = {
  idleConnections: 1_000,
  fanoutSubscribers: 500,
  latencySubscribers: 200,
  latencyChannels: 4,
  latencyRate: 40,
  crossSubscribers: 500,
  measureSeconds: 2,
  workers: 1,
  fanoutWindow: 50,
};

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function dialectOf(system: SystemName): DialectName {
  return system === "socketio" ? "socketio" : "rtgw";
}

/** Forks workers that open `connections` to `targets`, and waits until every one is subscribed. */
async function openLoad(options: {
  system: SystemName;
  targets: string[];
  connections: number;
  channels: string[];
  mode: "track" | "count";
  workers: number;
  deadlineSeconds: number;
  /** Index of the first worker: pools open side by side need disjoint source addresses. */
  firstWorker?: number;
}): Promise<WorkerPool> {
  const firstWorker = options.firstWorker ?? 0;
  const configs: WorkerConfig[] = splitConnections(options.connections, options.workers).map((share, i) => ({
    workerIndex: firstWorker + i,
    targets: options.targets,
    dialect: dialectOf(options.system),
    first: share.first,
    connections: share.count,
    sourceAddresses: sourceAddresses(firstWorker + i, share.count),
    rampSeconds: 0,
    channels: options.channels,
    mode: options.mode,
    reportIntervalMs: 50,
    deadlineMs: options.deadlineSeconds * 1000,
    maxPendingConnects: 256,
    reconnect: false,
  }));
  const pool = new WorkerPool(configs);
  pool.start();
  const until = Date.now() + 90_000;
  for (;;) {
    const total = sumTicks([...pool.latest.values()]);
    if (pool.latest.size === configs.length && total.subscribed >= options.connections) return pool;
    if (total.connectErrors > 0 || pool.lost > 0 || Date.now() > until) {
      pool.kill();
      throw new Error(
        `${options.system}: only ${total.subscribed} of ${options.connections} connections subscribed (${total.connectErrors} connect errors)`,
      );
    }
    await sleep(100);
  }
}

async function closePool(pool: WorkerPool): Promise<void> {
  await pool.finish({}, 10_000);
  pool.kill();
}

/** RSS once it stops moving (two readings 500 ms apart within 0.5%), or the last reading after 8 s. */
async function settledRss(server: ServerProcess): Promise<number> {
  let previous = server.rss();
  for (let i = 0; i < 16; i++) {
    await sleep(500);
    const now = server.rss();
    if (Math.abs(now - previous) <= previous * 0.005) return now;
    previous = now;
  }
  return previous;
}

/**
 * Scenario 1: RSS growth per connection, each subscribed to one of 100 channels and silent. Measured between
 * two loads (a base of IDLE_BASE connections, then N more) after a warm-up round, so start-up allocations
 * and first-use caches (which the GC may give back at any moment) are not counted as connections.
 */
const IDLE_BASE = 1_000;
async function idleMemory(system: SystemName, server: ServerProcess, sizes: Sizes): Promise<number> {
  const open = (connections: number, workers: number, firstWorker: number) =>
    openLoad({
      system,
      targets: [wsUrlOf(system, server.port)],
      connections,
      channels: channelNames("idle:", 100),
      mode: "count",
      workers,
      deadlineSeconds: 180,
      firstWorker,
    });
  await closePool(await open(IDLE_BASE, 1, 0));
  await sleep(1_000);
  const base = await open(IDLE_BASE, 1, 0);
  const before = await settledRss(server);
  const measured = await open(sizes.idleConnections, sizes.workers, 1);
  const after = await settledRss(server);
  await closePool(measured);
  await closePool(base);
  return Math.round((after - before) / sizes.idleConnections);
}

/**
 * Publish to one channel as fast as delivery allows: keep at most `window` messages not yet delivered to every
 * subscriber (so no server is pushed into its slow-consumer limits), and measure deliveries/s after a warm-up.
 */
async function closedLoopDeliveries(
  pool: WorkerPool,
  publisher: Publisher,
  channel: string,
  subscribers: number,
  sizes: Sizes,
): Promise<number> {
  const WINDOW = sizes.fanoutWindow;
  const seconds = sizes.measureSeconds;
  const MAX_IN_FLIGHT = 16;
  let sent = 0;
  let inFlight = 0;
  let failed = 0;
  const delivered = () => sumTicks([...pool.latest.values()]).delivered;
  const base = delivered();
  const warmupEnd = Date.now() + 1_000;
  const end = warmupEnd + seconds * 1000;
  let mark: { at: number; delivered: number } | null = null;
  while (Date.now() < end) {
    if (mark === null && Date.now() >= warmupEnd) mark = { at: Date.now(), delivered: delivered() };
    // Messages sent (including those in flight) that have not reached every subscriber yet.
    const behind = () => sent - (delivered() - base) / subscribers;
    while (behind() < WINDOW && inFlight < MAX_IN_FLIGHT) {
      inFlight++;
      sent++;
      publisher.publish(channel, `{"ts":${performance.timeOrigin + performance.now()},"seq":${sent}}`).then(
        () => inFlight--,
        () => {
          inFlight--;
          failed++;
        },
      );
    }
    await sleep(2);
  }
  if (failed > 0) log(`${failed} publishes failed`);
  if (!mark) return 0;
  return Math.round((delivered() - mark.delivered) / ((Date.now() - mark.at) / 1000));
}

async function fanout(system: SystemName, server: ServerProcess, sizes: Sizes): Promise<number> {
  const pool = await openLoad({
    system,
    targets: [wsUrlOf(system, server.port)],
    connections: sizes.fanoutSubscribers,
    channels: ["fanout"],
    mode: "count",
    workers: sizes.workers,
    deadlineSeconds: 180,
  });
  const publisher = httpPublisher([`http://127.0.0.1:${server.port}`], BENCH_API_KEY);
  try {
    return await closedLoopDeliveries(pool, publisher, "fanout", sizes.fanoutSubscribers, sizes);
  } finally {
    publisher.close();
    await closePool(pool);
  }
}

async function latency(
  system: SystemName,
  server: ServerProcess,
  sizes: Sizes,
): Promise<{ p50: number; p99: number }> {
  const channels = channelNames("latency:", sizes.latencyChannels);
  const pool = await openLoad({
    system,
    targets: [wsUrlOf(system, server.port)],
    connections: sizes.latencySubscribers,
    channels,
    mode: "track",
    workers: sizes.workers,
    deadlineSeconds: 180,
  });
  const publisher = httpPublisher([`http://127.0.0.1:${server.port}`], BENCH_API_KEY);
  try {
    await publishAtRate({
      publisher,
      channels,
      ratePerSecond: sizes.latencyRate,
      stopAt: Date.now() + (sizes.measureSeconds + 2) * 1000,
    });
    await sleep(500);
  } finally {
    publisher.close();
  }
  const results = await pool.finish({}, 10_000);
  pool.kill();
  const merged = decodeFromCompressedBase64(results[0]?.latencyHistogram ?? "");
  for (const result of results.slice(1)) merged.add(decodeFromCompressedBase64(result.latencyHistogram));
  return { p50: merged.getValueAtPercentile(50) / 1000, p99: merged.getValueAtPercentile(99) / 1000 };
}

async function crossProcess(system: SystemName, redisUrl: string, sizes: Sizes): Promise<number> {
  const servers = [await startSystem(system, redisUrl), await startSystem(system, redisUrl)];
  try {
    const pool = await openLoad({
      system,
      targets: servers.map((s) => wsUrlOf(system, s.port)),
      connections: sizes.crossSubscribers,
      channels: ["cross"],
      mode: "count",
      workers: sizes.workers,
      deadlineSeconds: 180,
    });
    const publisher = httpPublisher([`http://127.0.0.1:${servers[0]?.port}`], BENCH_API_KEY);
    try {
      return await closedLoopDeliveries(pool, publisher, "cross", sizes.crossSubscribers, sizes);
    } finally {
      publisher.close();
      await closePool(pool);
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}

async function measureSystem(
  system: SystemName,
  redisUrl: string,
  sizes: Sizes,
  scenarios: readonly Scenario[],
): Promise<SystemFigures> {
  const figures: SystemFigures = {
    bytesPerConnection: null,
    fanoutDeliveriesPerSecond: null,
    p50Ms: null,
    p99Ms: null,
    crossProcessDeliveriesPerSecond: null,
  };
  const attempt = async (what: Scenario, run: () => Promise<void>) => {
    if (!scenarios.includes(what)) return;
    const started = Date.now();
    try {
      await run();
    } catch (error) {
      log(`${system} ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    log(`${system} ${what} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
  const server = scenarios.some((s) => s !== "cross") ? await startSystem(system) : null;
  try {
    await attempt("memory", async () => {
      figures.bytesPerConnection = await idleMemory(system, server as ServerProcess, sizes);
    });
    await sleep(1_000);
    await attempt("fanout", async () => {
      figures.fanoutDeliveriesPerSecond = await fanout(system, server as ServerProcess, sizes);
    });
    await sleep(1_000);
    await attempt("latency", async () => {
      const { p50, p99 } = await latency(system, server as ServerProcess, sizes);
      figures.p50Ms = Math.round(p50 * 1000) / 1000;
      figures.p99Ms = Math.round(p99 * 1000) / 1000;
    });
  } finally {
    await server?.stop();
  }
  await attempt("cross", async () => {
    figures.crossProcessDeliveriesPerSecond = await crossProcess(system, redisUrl, sizes);
  });
  log(`${system}: ${JSON.stringify(figures)}`);
  return figures;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const sizes = options.quick ? QUICK : FULL;
  const scenarios = options.scenarios ?? SCENARIOS;
  const complete = SCENARIOS.every((s) => scenarios.includes(s));
  const systems = options.systems.filter(
    (s): s is SystemName => s === "rtgw" || s === "socketio" || s === "uws",
  );
  const startedAt = Date.now();
  const redis = await startRedisServer();
  const results: BenchResults = { systems: {} };
  try {
    for (const system of systems) {
      log(`measuring ${LABELS[system] ?? system}`);
      results.systems[system] = await measureSystem(system, redis.url, sizes, scenarios);
    }
  } finally {
    await redis.stop();
  }
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  process.stdout.write(`\n${markdownTable(results)}\n\n${verdict(results).line}\n`);
  process.stdout.write(`(ratios in parentheses: that system's figure / our gateway's; ${seconds} s)\n`);
  if (!options.quick && complete) {
    await writeFile(options.json, `${JSON.stringify(results, null, 2)}\n`);
    const note =
      `Measured by \`make bench\` on ${new Date().toISOString().slice(0, 10)}: ${sizes.idleConnections} idle connections, ` +
      `${sizes.fanoutSubscribers} fan-out subscribers, ${sizes.latencySubscribers} subscribers at ${sizes.latencyRate} msg/s for latency, ` +
      `${sizes.crossSubscribers} subscribers over two processes for cross-process; ratios are that system / our gateway.`;
    const readme = await readFile(options.readme, "utf8");
    await writeFile(options.readme, replaceResultsBlock(readme, resultsBlock(results, note)));
    log(`wrote ${options.json} and the results block of ${options.readme}`);
  }
  return results;
}
