// The box-scale run: many gateway processes on one Redis and many load workers, all on this machine,
// holding a couple of hundred thousand connections with a broadcast stream flowing. Everything is bounded
// (ramp + hold + settle) and every process it starts is killed at the end.
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import {
  BENCH_API_KEY,
  reapedChildrenCpuSecondsFromStat,
  type ServerProcess,
  startRedisServer,
  startSystem,
  wsUrlOf,
} from "../bench/processes.js";
import { replaceResultsBlock } from "../bench/results.js";
import { runLoad } from "../load/run-load.js";

export interface BoxOptions {
  /** README whose box results block is regenerated (none: leave it). */
  readme?: string;
  connections: number;
  gateways: number;
  workers: number;
  rampSeconds: number;
  holdSeconds: number;
  channels: number;
  publishRate: number;
  json: string;
  html: string;
}

export interface BoxResult {
  date: string;
  connectionsRequested: number;
  connectionsHeld: number;
  gateways: number;
  workers: number;
  gatewayRssBytes: number;
  gatewayBytesPerConnection: number;
  workerRssBytes: number;
  redisRssBytes: number;
  publishRatePerSecond: number;
  deliveriesPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  lost: number;
  duplicated: number;
  connectErrors: number;
  /** Connections opened per second of the ramp (seconds with any connect), and the best single second. */
  connectRatePerSecond: number;
  peakConnectsPerSecond: number;
  /** CPU per process kind over the load (ramp + hold + settle), in cores on average: where the 2 cores went. */
  cpuCores: { gateways: number; loadWorkers: number; redis: number };
  durationSeconds: number;
}

const log = (line: string) => process.stderr.write(`box: ${line}\n`);
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** The README's box results: the figures of the last run, as a table. */
export function boxResultsBlock(r: BoxResult): string {
  const rows: Array<[string, string]> = [
    [
      "connections held",
      `${r.connectionsHeld.toLocaleString("en-US")} of ${r.connectionsRequested.toLocaleString("en-US")}`,
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
      `${r.publishRatePerSecond} msg/s → ${r.deliveriesPerSecond.toLocaleString("en-US")} deliveries/s`,
    ],
    ["latency", `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, p999 ${r.p999Ms} ms`],
    ["loss", `${r.lost} lost, ${r.duplicated} duplicated, ${r.connectErrors} connect errors`],
    [
      "connect rate",
      `${r.connectRatePerSecond.toLocaleString("en-US")}/s over the ramp, best second ${r.peakConnectsPerSecond.toLocaleString("en-US")}/s`,
    ],
    [
      "CPU (cores, mean over the load)",
      `gateways ${r.cpuCores.gateways}, load workers ${r.cpuCores.loadWorkers}, Redis ${r.cpuCores.redis}`,
    ],
  ];
  return [
    `Last run (\`make box\`, ${r.date.slice(0, 10)}, ${r.durationSeconds} s, on this 2-core machine shared with other work):`,
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ].join("\n");
}

export async function runBox(options: BoxOptions): Promise<BoxResult> {
  const startedAt = Date.now();
  const redis = await startRedisServer();
  const gateways: ServerProcess[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    log(`starting ${options.gateways} gateways on ${redis.url}`);
    for (let i = 0; i < options.gateways; i += 4) {
      const batch = Math.min(4, options.gateways - i);
      gateways.push(
        ...(await Promise.all(Array.from({ length: batch }, () => startSystem("rtgw", redis.url)))),
      );
    }
    const baseline = gateways.reduce((sum, g) => sum + g.rss(), 0);
    // Memory at the end of the hold is what the held connections cost; sample it while the load runs.
    let gatewayRss = baseline;
    let redisRss = redis.rss();
    sampler = setInterval(() => {
      gatewayRss = gateways.reduce((sum, g) => sum + g.rss(), 0);
      redisRss = redis.rss();
    }, 2_000);
    const cpuAt = () => ({
      at: performance.now(),
      gateways: gateways.reduce((sum, g) => sum + g.cpuSeconds(), 0),
      redis: redis.cpuSeconds(),
      // The load workers are this process's children: their CPU shows once they exited and were reaped.
      children: reapedChildrenCpuSecondsFromStat(readFileSync("/proc/self/stat", "utf8")),
    });
    const cpuBefore = cpuAt();
    const report = await runLoad({
      targets: gateways.map((g) => wsUrlOf("rtgw", g.port)),
      connections: options.connections,
      rampSeconds: options.rampSeconds,
      holdSeconds: options.holdSeconds,
      channels: options.channels,
      publishRate: options.publishRate,
      apiKey: BENCH_API_KEY,
      workers: options.workers,
      maxPendingConnects: 100,
      json: options.json.replace(/\.json$/, "-load.json"),
      html: options.html,
    });
    clearInterval(sampler);
    // The workers have been killed: give the kernel a moment to reap them, so their CPU is in cutime/cstime.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const cpuAfter = cpuAt();
    const loadSeconds = Math.max(0.001, (cpuAfter.at - cpuBefore.at) / 1000 - 1);
    const cores = (used: number) => Math.round((used / loadSeconds) * 100) / 100;
    const held = report.connections.peakHeld;
    const result: BoxResult = {
      date: new Date().toISOString(),
      connectionsRequested: options.connections,
      connectionsHeld: held,
      gateways: options.gateways,
      workers: options.workers,
      gatewayRssBytes: gatewayRss,
      gatewayBytesPerConnection: held > 0 ? Math.round((gatewayRss - baseline) / held) : 0,
      workerRssBytes: Math.max(0, ...report.timeline.map((p) => p.workersRss)),
      redisRssBytes: redisRss,
      publishRatePerSecond: report.publish.ratePerSecond,
      deliveriesPerSecond: report.deliveries.perSecond,
      p50Ms: report.latencyMs.p50,
      p99Ms: report.latencyMs.p99,
      p999Ms: report.latencyMs.p999,
      lost: report.loss.lost,
      duplicated: report.loss.duplicated,
      connectErrors: report.connections.connectErrors,
      connectRatePerSecond: report.connections.connectRatePerSecond,
      peakConnectsPerSecond: Math.max(0, ...report.timeline.map((p) => p.connectsPerSecond)),
      cpuCores: {
        gateways: cores(cpuAfter.gateways - cpuBefore.gateways),
        loadWorkers: cores(cpuAfter.children - cpuBefore.children),
        redis: cores(cpuAfter.redis - cpuBefore.redis),
      },
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    };
    await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
    if (options.readme) {
      const readme = await readFile(options.readme, "utf8");
      await writeFile(options.readme, replaceResultsBlock(readme, boxResultsBlock(result), "box"));
    }
    process.stdout.write(
      [
        "",
        `box: held ${held} of ${options.connections} connections on ${options.gateways} gateways (${options.workers} load workers)`,
        `box: memory: gateways ${mb(result.gatewayRssBytes)} (${result.gatewayBytesPerConnection} B/conn over their baseline), ` +
          `load workers ${mb(result.workerRssBytes)}, redis ${mb(result.redisRssBytes)}`,
        `box: broadcast: ${result.publishRatePerSecond} msg/s → ${result.deliveriesPerSecond} deliveries/s, ` +
          `latency p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms p999 ${result.p999Ms} ms`,
        `box: connect rate ${result.connectRatePerSecond}/s over the ramp (best second ${result.peakConnectsPerSecond}/s); ` +
          `CPU cores: gateways ${result.cpuCores.gateways}, load workers ${result.cpuCores.loadWorkers}, redis ${result.cpuCores.redis}`,
        `box: loss: ${result.lost} lost, ${result.duplicated} duplicated; ${result.connectErrors} connect errors; ${result.durationSeconds} s`,
        `box: ${held >= options.connections && result.lost === 0 && result.duplicated === 0 ? "PASS" : "FAIL"} (wrote ${options.json})`,
        "",
      ].join("\n"),
    );
    return result;
  } finally {
    if (sampler) clearInterval(sampler);
    await Promise.all(gateways.map((g) => g.stop()));
    await redis.stop();
  }
}
