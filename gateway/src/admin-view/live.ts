// The admin view's live feed: every interval, one sample of the fleet's size (AdminOps.info) and of this
// node's message rate and p99 delivery latency (from the prom-client metrics, as deltas between readings),
// kept in a bounded ring the page polls with the time of the last sample it has. It samples only while a page
// polls (and `idleMs` after), so a fleet with the view on does not read the node registry every second unwatched.
import * as metrics from "../metrics.js";
import type { AdminOps } from "./ops.js";
import { type Buckets, histogramQuantile, ratePerSecond } from "./rates.js";

export interface Sample {
  /** ms since epoch */
  t: number;
  nodes: number;
  connections: number;
  channels: number;
  /** Messages published through this node per second. */
  publishedPerSecond: number;
  /** Deliveries to this node's sockets per second. */
  deliveredPerSecond: number;
  /** p99 delivery latency in ms over the interval; null when nothing was delivered. */
  p99Ms: number | null;
}

interface Reading {
  t: number;
  published: number;
  delivered: number;
  latency: Buckets;
}

export interface LiveFeed {
  /** Samples newer than `sinceMs`, oldest first. */
  since(sinceMs: number): Sample[];
  stop(): void;
}

async function counterValue(counter: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function latencyBuckets(): Promise<Buckets> {
  const { values } = await metrics.deliveryLatency.get();
  return values
    .filter((v) => v.metricName === "rtgw_delivery_latency_seconds_bucket")
    .map((v) => ({
      le: v.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(v.labels.le),
      count: v.value,
    }));
}

async function read(now: number): Promise<Reading> {
  return {
    t: now,
    published: await counterValue(metrics.messagesReceived),
    delivered: await counterValue(metrics.messagesDelivered),
    latency: await latencyBuckets(),
  };
}

export function startLiveFeed(o: {
  ops: AdminOps;
  intervalMs: number;
  capacity: number;
  /** Sampling stops this long after the last poll (default 60 s). */
  idleMs?: number;
}): LiveFeed {
  const idleMs = o.idleMs ?? 60_000;
  const ring: Sample[] = [];
  let last: Reading | undefined;
  let busy = false;
  let timer: NodeJS.Timeout | undefined;
  let polledAt = 0;
  const tick = async () => {
    if (Date.now() - polledAt > idleMs) {
      clearInterval(timer);
      timer = undefined;
      last = undefined; // the next reading starts a new baseline: no rate across the unwatched gap
      return;
    }
    if (busy) return; // a slow info() must not pile samples up
    busy = true;
    try {
      const [reading, info] = await Promise.all([read(Date.now()), o.ops.info()]);
      const before = last;
      last = reading;
      if (!before) return;
      const seconds = (reading.t - before.t) / 1000;
      const p99 = histogramQuantile(0.99, before.latency, reading.latency);
      ring.push({
        t: reading.t,
        nodes: info.nodes.length,
        connections: info.nodes.reduce((sum, n) => sum + n.connections, 0),
        channels: info.nodes.reduce((sum, n) => sum + n.channels, 0),
        publishedPerSecond: ratePerSecond(before.published, reading.published, seconds),
        deliveredPerSecond: ratePerSecond(before.delivered, reading.delivered, seconds),
        p99Ms: p99 === undefined ? null : p99 * 1000,
      });
      if (ring.length > o.capacity) ring.splice(0, ring.length - o.capacity);
    } catch {
      // A failed reading (e.g. the fleet registry unreachable) leaves a gap in the charts, nothing else.
    } finally {
      busy = false;
    }
  };
  let stopped = false;
  return {
    since: (sinceMs) => {
      polledAt = Date.now();
      if (!timer && !stopped) {
        void tick();
        timer = setInterval(() => void tick(), o.intervalMs).unref();
      }
      return ring.filter((s) => s.t > sinceMs);
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
