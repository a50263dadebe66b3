// The bench's per-system scenarios, each one figure (or two) from the same load workers and publisher:
// idle memory, fan-out, latency, cross-process over Redis, connect rate, and one pod at its open-file cap
// relaying from Redis.
import { channelNames } from "../load/plan.js";
import { publishAtRate } from "../load/publisher.js";
import { sumTicks } from "../load/report.js";
import { WorkerPool } from "../load/worker-pool.js";
import {
  closedLoopDeliveries,
  closePool,
  deliveredIn,
  latencyOf,
  openLoad,
  publisherFor,
  settledRss,
  sleep,
  workerConfigs,
} from "./load-pool.js";
import { type ServerProcess, type SystemName, startSystem, wsUrlOf } from "./processes.js";
import type { Sizes } from "./sizes.js";

/**
 * RSS growth per connection, each subscribed to one of 100 channels and silent. Measured between two loads
 * (a base of IDLE_BASE connections, then N more) after a warm-up round, so start-up allocations and first-use
 * caches (which the GC may give back at any moment) are not counted as connections.
 */
const IDLE_BASE = 1_000;
export async function idleMemory(system: SystemName, server: ServerProcess, sizes: Sizes): Promise<number> {
  const open = (connections: number, workers: number, firstWorker: number) =>
    openLoad({
      system,
      targets: [wsUrlOf(system, server.port)],
      connections,
      channels: channelNames("idle-", 100),
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
