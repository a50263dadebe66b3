// Publishes into one Redis: our gateway's publish path (the Redis broker's atomic publish script, called
// directly in this process as the HTTP handler calls it, with `publishConcurrency` publishes in flight over
// 100 channels) beside raw `redis-benchmark` PUBLISH against the same redis-server in the same run.
import { execFile } from "node:child_process";
import { Redis } from "ioredis";
import pino from "pino";
import { Registry } from "prom-client";
import { createBroker } from "../../../gateway/src/broker/index.js";
import { parseConfig } from "../../../gateway/src/config.js";
import type { RedisProcess } from "./processes.js";
import type { Sizes } from "./sizes.js";

export interface RedisPublishFigures {
  /** Publishes/s through the gateway's broker (publish script: offset, history, PUBLISH). */
  gatewayPublishesPerSecond: number | null;
  /** `redis-benchmark` PUBLISH, 50 clients, one command in flight each (its defaults). */
  redisBenchmarkPublishesPerSecond: number | null;
  /** The same with 16 commands pipelined per client. */
  redisBenchmarkPipelinedPublishesPerSecond: number | null;
  /** Where the time goes: redis-server's CPU per publish through our script, and per raw PUBLISH (µs). */
  gatewayRedisCpuUsPerPublish: number | null;
  redisBenchmarkRedisCpuUsPerPublish: number | null;
  /** This process's CPU per publish through our broker (ioredis, the script call), µs. */
  gatewayClientCpuUsPerPublish: number | null;
  /**
   * Redis's own accounting (INFO commandstats, µs per call) over our run: the whole script, and the commands it
   * runs that cost most (XADD with its exact MAXLEN trim, the EXPIREs, the PUBLISH).
   */
  scriptUsPerCall?: Record<string, number> | null;
}

/** `cmdstat_<name>:calls=..,usec=..,usec_per_call=X,...` lines of INFO commandstats → name → µs per call. */
export function parseCommandStats(info: string): Record<string, number> {
  const stats: Record<string, number> = {};
  for (const line of info.split("\n")) {
    const match = /^cmdstat_([a-z|_-]+):.*\busec_per_call=([\d.]+)/.exec(line.trim());
    if (match) stats[match[1] as string] = Number(match[2]);
  }
  return stats;
}

/** The commands of the publish script, from INFO commandstats after a run of only our publishes. */
async function scriptCommandStats(redisUrl: string, reset: boolean): Promise<Record<string, number>> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    if (reset) {
      await client.config("RESETSTAT");
      return {};
    }
    const stats = parseCommandStats(await client.info("commandstats"));
    const keep = ["evalsha", "xadd", "expire", "incr", "get", "publish"];
    return Object.fromEntries(
      keep.filter((name) => name in stats).map((name) => [name, stats[name] as number]),
    );
  } finally {
    client.disconnect();
  }
}

/** Runs `work` (which does `count` operations) and reports the CPU redis-server and this process spent on each. */
async function cpuPer<T>(
  redis: RedisProcess,
  count: number,
  work: () => Promise<T>,
): Promise<{ result: T; redisUs: number; clientUs: number }> {
  const redisBefore = redis.cpuSeconds();
  const clientBefore = process.cpuUsage();
  const result = await work();
  const client = process.cpuUsage(clientBefore);
  const redisUs = ((redis.cpuSeconds() - redisBefore) * 1e6) / count;
  const clientUs = (client.user + client.system) / count;
  return { result, redisUs: Math.round(redisUs * 10) / 10, clientUs: Math.round(clientUs * 10) / 10 };
}

/** A payload the size of the bench's own messages. */
const PAYLOAD = `{"ts":${Date.now()}.123,"seq":123456}`;

/** The requests/s of the one test in `redis-benchmark --csv` output; null when there is none. */
export function parseRedisBenchmarkCsv(output: string): number | null {
  for (const line of output.split("\n").reverse()) {
    // "name","rps", then six latencies: the name may hold quotes and commas (it is the command line), the
    // numbers never do, so the rps is the seventh field from the end.
    const match = /^".*","([\d.]+)"(?:,"[\d.]+"){6}$/.exec(line.trim());
    if (match) return Number(match[1]);
  }
  return null;
}

/** redis-benchmark's own figure for PUBLISH on 100 channels (`-r 100`), `pipeline` commands per round trip. */
export async function redisBenchmarkPublish(
  redisUrl: string,
  requests: number,
  pipeline: number,
): Promise<number | null> {
  const url = new URL(redisUrl);
  const args = [
    "-h",
    url.hostname,
    "-p",
    url.port,
    "-n",
    String(requests),
    "-c",
    "50",
    "-P",
    String(pipeline),
  ];
  const output = await new Promise<string>((resolve, reject) =>
    execFile(
      "redis-benchmark",
      [...args, "-r", "100", "--csv", "PUBLISH", "bench:pub:__rand_int__", PAYLOAD],
      { timeout: 120_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`redis-benchmark: ${stderr || error.message}`)) : resolve(stdout),
    ),
  );
  return parseRedisBenchmarkCsv(output);
}

/**
 * Publishes/s through the gateway's Redis broker: `count` publishes, `concurrency` in flight, 100 channels,
 * after a warm-up (scripts loaded, connections hot), with the CPU redis-server and this process spent on each.
 */
export async function gatewayBrokerPublish(
  redis: RedisProcess,
  count: number,
  concurrency: number,
): Promise<{ result: number; redisUs: number; clientUs: number }> {
  const parsed = parseConfig({
    RTGW_BROKER: "redis",
    RTGW_REDIS_URL: redis.url,
    RTGW_NODE_ID: "bench-publisher",
  });
  if (!parsed.ok) throw new Error(`gateway config: ${parsed.errors.join("; ")}`);
  const broker = await createBroker(parsed.config, {
    logger: pino({ level: "warn" }),
    registry: new Registry(),
  });
  const noop = () => undefined;
  await broker.start({ message: noop, health: noop, presence: noop, resync: noop });
  try {
    const run = async (total: number) => {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) {
            const n = next++;
            await broker.publish(`bench:pub:${n % 100}`, PAYLOAD);
          }
        }),
      );
      return Math.round(total / ((performance.now() - started) / 1000));
    };
    await run(Math.min(count, 5_000));
    return await cpuPer(redis, count, () => run(count));
  } finally {
    await broker.close();
  }
}

export async function redisPublish(redis: RedisProcess, sizes: Sizes): Promise<RedisPublishFigures> {
  await scriptCommandStats(redis.url, true);
  const ours = await gatewayBrokerPublish(redis, sizes.publishCount, sizes.publishConcurrency);
  const scriptUsPerCall = await scriptCommandStats(redis.url, false);
  const raw = await cpuPer(redis, sizes.publishCount, () =>
    redisBenchmarkPublish(redis.url, sizes.publishCount, 1),
  );
  const pipelined = await redisBenchmarkPublish(redis.url, sizes.publishCount * 4, 16);
  return {
    gatewayPublishesPerSecond: ours.result,
    redisBenchmarkPublishesPerSecond: raw.result === null ? null : Math.round(raw.result),
    redisBenchmarkPipelinedPublishesPerSecond: pipelined === null ? null : Math.round(pipelined),
    gatewayRedisCpuUsPerPublish: ours.redisUs,
    redisBenchmarkRedisCpuUsPerPublish: raw.redisUs,
    gatewayClientCpuUsPerPublish: ours.clientUs,
    scriptUsPerCall,
  };
}
