// The bench's per-system scenarios, each one figure (or two) from the same load workers and publisher:
// idle memory, fan-out, latency, cross-process over Redis, connect rate, and one pod at its open-file cap
// relaying from Redis.
import { channelNames } from "../load/plan.js";
import { publishAtRate } from "../load/publisher.js";
import { sumTicks } from "../load/report.js";
import { WorkerPool } from "../load/worker-pool.js";
import { collectGarbage } from "./collect-garbage.js";
import {
  closedLoopDeliveries,
  closePool,
  deliveredIn,
  latencyOf,
  log,
  openLoad,
  publisherFor,
  settledRss,
  sleep,
  workerConfigs,
} from "./load-pool.js";
import { type ServerProcess, type SystemName, startSystem, wsUrlOf } from "./processes.js";
import type { Sizes } from "./sizes.js";

/**
 * RSS growth per connection, each subscribed to one of 100 channels and silent, on a server of its own with its
 * inspector open (`inspectPort`). After a warm-up round and a base of IDLE_BASE connections, N more open in
 * IDLE_BLOCKS equal blocks; after each, a full garbage collection (through the inspector), then RSS once settled.
 * The figure is the median block's growth per connection. One reading against one baseline, without a
 * collection, was at the mercy of whichever collection (of start-up code, of garbage promoted from a grown young
 * generation) fell between the two: the same build read 780 and 1,412 B, and bare uWS -830 B, runs minutes apart.
 */
/** `connections` silent sockets on one load worker, each subscribed to one of 100 channels. */
export const openIdle = (
  system: SystemName,
  server: ServerProcess,
  connections: number,
  firstWorker: number,
) =>
  openLoad({
    system,
    targets: [wsUrlOf(system, server.port)],
    connections,
    channels: channelNames("idle-", 100),
    mode: "count",
    workers: 1,
    deadlineSeconds: 180,
    firstWorker,
  });

const IDLE_BASE = 1_000;
const IDLE_BLOCKS = 5;
export async function idleMemory(
  system: SystemName,
  server: ServerProcess,
  inspectPort: number,
  sizes: Sizes,
): Promise<number> {
  const open = (connections: number, firstWorker: number) =>
    openIdle(system, server, connections, firstWorker);
  const reading = async () => {
    await collectGarbage(inspectPort);
    return settledRss(server);
  };
  await closePool(await open(IDLE_BASE, 0));
  await sleep(1_000);
  const pools = [await open(IDLE_BASE, 0)];
  const block = Math.ceil(sizes.idleConnections / IDLE_BLOCKS);
  const readings = [await reading()];
  try {
    for (let i = 1; i <= IDLE_BLOCKS; i++) {
      pools.push(await open(block, i));
      readings.push(await reading());
    }
  } finally {
    for (const pool of pools.reverse()) await closePool(pool);
  }
  const mb = readings.map((r) => (r / 1e6).toFixed(1)).join(", ");
  log(`${system} idle RSS (MB) at ${IDLE_BASE} + ${IDLE_BLOCKS} × ${block} connections: ${mb}`);
  return medianGrowthPerConnection(readings, block);
}

/** The median of the growth between consecutive readings, per connection (`perStep` connections each step). */
export function medianGrowthPerConnection(readings: readonly number[], perStep: number): number {
  const steps = readings.slice(1).map((r, i) => r - (readings[i] as number));
  if (steps.length === 0) throw new Error("at least two readings");
  steps.sort((a, b) => a - b);
  const mid = steps.length >> 1;
  const median =
    steps.length % 2 === 1
      ? (steps[mid] as number)
      : ((steps[mid - 1] as number) + (steps[mid] as number)) / 2;
  return Math.round(median / perStep);
}

/** Closed-loop publishing to one channel with many subscribers on one process: deliveries/s. */
export async function fanout(system: SystemName, server: ServerProcess, sizes: Sizes): Promise<number> {
  const pool = await openLoad({
    system,
    targets: [wsUrlOf(system, server.port)],
    connections: sizes.fanoutSubscribers,
    channels: ["fanout"],
    mode: "count",
    workers: sizes.workers,
    deadlineSeconds: 180,
  });
  const publisher = publisherFor(system, [server]);
  try {
    return await closedLoopDeliveries({
      publisher,
      channels: ["fanout"],
      subscribersPerMessage: sizes.fanoutSubscribers,
      delivered: () => deliveredIn([pool]),
      window: sizes.fanoutWindow,
      measureSeconds: sizes.measureSeconds,
    });
  } finally {
    publisher.close();
    await closePool(pool);
  }
}

/** Publish-to-receive p50/p99 at a fixed moderate rate. */
export async function latency(
  system: SystemName,
  server: ServerProcess,
  sizes: Sizes,
): Promise<{ p50: number | null; p99: number | null }> {
  const channels = channelNames("latency-", sizes.latencyChannels);
  const pool = await openLoad({
    system,
    targets: [wsUrlOf(system, server.port)],
    connections: sizes.latencySubscribers,
    channels,
    mode: "track",
    workers: sizes.workers,
    deadlineSeconds: 180,
  });
  const publisher = publisherFor(system, [server]);
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
  return latencyOf(await closePool(pool));
}

/** Two server processes on one Redis, subscribers split over them, publishing on the first: deliveries/s. */
export async function crossProcess(system: SystemName, redisUrl: string, sizes: Sizes): Promise<number> {
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
    const publisher = publisherFor(system, servers.slice(0, 1));
    try {
      return await closedLoopDeliveries({
        publisher,
        channels: ["cross"],
        subscribersPerMessage: sizes.crossSubscribers,
        delivered: () => deliveredIn([pool]),
        window: sizes.fanoutWindow,
        measureSeconds: sizes.measureSeconds,
      });
    } finally {
      publisher.close();
      await closePool(pool);
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}

/**
 * New connections/s one process accepts (plain ws://, no TLS): `connectConnections` opened at once by the load
 * workers (at most `connectConcurrency` handshakes in flight each), timed from the first completed handshake to
 * the last, on the workers' own 50 ms reports. Each connection counts once its upgrade is answered.
 */
export async function connectRate(system: SystemName, server: ServerProcess, sizes: Sizes): Promise<number> {
  const configs = workerConfigs({
    system,
    targets: [wsUrlOf(system, server.port)],
    connections: sizes.connectConnections,
    channels: ["connect"],
    mode: "count",
    workers: sizes.workers,
    deadlineSeconds: 120,
    maxPendingConnects: sizes.connectConcurrency,
  });
  const pool = new WorkerPool(configs);
  // The first and the latest report that saw more connections opened: the rate is over the span between them.
  type Mark = { at: number; opened: number };
  const span: { first: Mark | null; last: Mark | null } = { first: null, last: null };
  pool.start(() => {
    const total = sumTicks([...pool.latest.values()]);
    const now = performance.now();
    if (span.first === null && total.opened > 0) span.first = { at: now, opened: total.opened };
    if (total.opened > (span.last?.opened ?? 0)) span.last = { at: now, opened: total.opened };
  });
  try {
    const until = Date.now() + 90_000;
    for (;;) {
      const total = sumTicks([...pool.latest.values()]);
      if (total.opened >= sizes.connectConnections) break;
      if (total.connectErrors > 0 || pool.lost > 0 || Date.now() > until)
        throw new Error(
          `${system}: ${total.opened} of ${sizes.connectConnections} connections opened (${total.connectErrors} connect errors)`,
        );
      await sleep(20);
    }
  } finally {
    await closePool(pool);
  }
  const { first, last } = span;
  if (!first || !last || last.at <= first.at) return 0;
  return Math.round((last.opened - first.opened) / ((last.at - first.at) / 1000));
}

/**
 * One pod at its open-file cap relaying from Redis: a second process of the same system takes the publishes
 * (ours: the publish script; bare uWS: Redis PUBLISH; Soketi: its Redis adapter) and sends nothing to clients;
 * the pod under test holds `relayConnections` subscribers over `relayChannels` channels and only relays what
 * Redis hands it. Closed-loop publishing keeps about `relayWindowDeliveries` deliveries in flight; a small
 * tracking pool among the subscribers records publish-to-receive latency under that load.
 */
export async function relayAtCap(
  system: SystemName,
  redisUrl: string,
  sizes: Sizes,
): Promise<{ deliveriesPerSecond: number; p99: number | null; podCpuCores: number; feederCpuCores: number }> {
  const feeder = await startSystem(system, redisUrl);
  const pod = await startSystem(system, redisUrl).catch(async (error: unknown) => {
    await feeder.stop();
    throw error;
  });
  const channels = channelNames("relay-", sizes.relayChannels);
  const target = [wsUrlOf(system, pod.port)];
  const pools: WorkerPool[] = [];
  try {
    pools.push(
      await openLoad({
        system,
        targets: target,
        connections: sizes.relayConnections - sizes.relayTrackers,
        channels,
        mode: "count",
        workers: sizes.workers,
        deadlineSeconds: 240,
      }),
    );
    // The trackers' connection indexes start at 0 again: they land on the first channels, one each.
    pools.push(
      await openLoad({
        system,
        targets: target,
        connections: sizes.relayTrackers,
        channels,
        mode: "track",
        workers: 1,
        deadlineSeconds: 240,
        firstWorker: sizes.workers,
      }),
    );
    const publisher = publisherFor(system, [feeder]);
    let deliveriesPerSecond = 0;
    // CPU of the pod and of the feeder over the closed loop, in cores: which of them was the limit.
    const cpuAt = () => ({ at: performance.now(), pod: pod.cpuSeconds(), feeder: feeder.cpuSeconds() });
    const before = cpuAt();
    try {
      deliveriesPerSecond = await closedLoopDeliveries({
        publisher,
        channels,
        subscribersPerMessage: sizes.relayConnections / sizes.relayChannels,
        delivered: () => deliveredIn(pools),
        window: Math.max(
          1,
          Math.round(sizes.relayWindowDeliveries / (sizes.relayConnections / sizes.relayChannels)),
        ),
        measureSeconds: sizes.measureSeconds,
        // The feeder must not be what is measured: as many requests in flight as the publisher has sockets.
        maxInFlight: 32,
      });
    } finally {
      publisher.close();
    }
    const after = cpuAt();
    const seconds = (after.at - before.at) / 1000;
    const cores = (used: number) => Math.round((used / seconds) * 100) / 100;
    const trackers = pools.pop() as WorkerPool;
    const { p99 } = latencyOf(await closePool(trackers));
    return {
      deliveriesPerSecond,
      p99,
      podCpuCores: cores(after.pod - before.pod),
      feederCpuCores: cores(after.feeder - before.feeder),
    };
  } finally {
    for (const pool of pools) await closePool(pool);
    await pod.stop();
    await feeder.stop();
  }
}
