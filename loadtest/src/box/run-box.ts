// The box-scale run: many gateway processes on one Redis and many load workers, all on this machine, holding
// issue 14's 500,000 subscribed connections with a broadcast stream flowing. Everything is bounded (ramp + hold +
// settle) and every process it starts is killed at the end, on an exception, and on Ctrl-C / SIGTERM.
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  BENCH_API_KEY,
  type RedisProcess,
  reapedChildrenCpuSecondsFromStat,
  type ServerProcess,
  startRedisServer,
  startSystem,
  wsUrlOf,
} from "../bench/processes.js";
import { replaceResultsBlock } from "../bench/results.js";
import { summaryLines } from "../load/report.js";
import { runLoad } from "../load/run-load.js";
import { renderBoxHtml } from "./html.js";
import { BOX_MAX_PENDING_CONNECTS, BOX_PAUSE_SECONDS, type BoxPlan, boxGoals } from "./plan.js";
import {
  type BoxResult,
  boxResultsBlock,
  boxSummaryLines,
  endOfHoldSample,
  gatewayBaseline,
  rssTimeline,
} from "./result.js";

export type { BoxResult } from "./result.js";

export interface BoxOptions extends BoxPlan {
  /** README whose box results block is regenerated (none: leave it). */
  readme?: string;
  connections: number;
  json: string;
  html: string;
}

const log = (line: string) => process.stderr.write(`box: ${line}\n`);

export async function runBox(options: BoxOptions): Promise<BoxResult> {
  // Before the run, not after it: a missing folder must not cost a five-minute run its figures.
  for (const file of [options.json, options.html]) await mkdir(dirname(file), { recursive: true });
  const startedAt = Date.now();
  const gateways: ServerProcess[] = [];
  let redis: RedisProcess | undefined;
  let sampler: NodeJS.Timeout | undefined;
  // Ctrl-C / SIGTERM: kill the servers now (SIGKILL is sent synchronously), then exit. runLoad's own SIGINT handler,
  // if the load is running, kills the workers in the same dispatch; workers also exit when this process is gone.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the gateways and redis`);
    for (const g of gateways) void g.stop();
    void redis?.stop();
    setImmediate(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    redis = await startRedisServer();
    const broker = redis;
    log(`starting ${options.gateways} gateways on ${broker.url}`);
    for (let i = 0; i < options.gateways; i += 4) {
      const batch = Math.min(4, options.gateways - i);
      gateways.push(
        ...(await Promise.all(Array.from({ length: batch }, () => startSystem("rtgw", broker.url)))),
      );
    }
    const startupRss = gateways.reduce((sum, g) => sum + g.rss(), 0);
    // Memory at the end of the hold is what the held connections cost; sample it (per kind) while the load runs.
    const loadStartedAt = Date.now();
    const samples: Array<{ t: number; gateways: number; redis: number }> = [];
    sampler = setInterval(() => {
      samples.push({
        t: Math.round((Date.now() - loadStartedAt) / 100) / 10,
        gateways: gateways.reduce((sum, g) => sum + g.rss(), 0),
        redis: broker.rss(),
      });
    }, 1_000);
    const cpuAt = () => ({
      at: performance.now(),
      gateways: gateways.reduce((sum, g) => sum + g.cpuSeconds(), 0),
      redis: broker.cpuSeconds(),
      // The load workers are this process's children: their CPU shows once they exited and were reaped.
      children: reapedChildrenCpuSecondsFromStat(readFileSync("/proc/self/stat", "utf8")),
    });
    const cpuBefore = cpuAt();
    const loadJson = options.json.replace(/\.json$/, "-load.json");
    const report = await runLoad({
      targets: gateways.map((g) => wsUrlOf("rtgw", g.port)),
      connections: options.connections,
      rampSeconds: options.rampSeconds,
      holdSeconds: options.holdSeconds,
      channels: options.channels,
      publishRate: options.publishRate,
      apiKey: BENCH_API_KEY,
      workers: options.workers,
      maxPendingConnects: BOX_MAX_PENDING_CONNECTS,
      pauseSeconds: BOX_PAUSE_SECONDS,
      json: loadJson,
    });
    clearInterval(sampler);
    // The workers have been killed: give the kernel a moment to reap them, so their CPU is in cutime/cstime.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const cpuAfter = cpuAt();
    const loadSeconds = Math.max(0.001, (cpuAfter.at - cpuBefore.at) / 1000 - 1);
    const cores = (used: number) => Math.round((used / loadSeconds) * 100) / 100;
    const held = report.connections.peakHeld;
    const rss = rssTimeline(samples, report.timeline);
    const baseline = gatewayBaseline(startupRss, rss, report.timeline);
    // What the held connections cost: the RSS at the end of the broadcast, before the teardown frees it.
    const atEnd = endOfHoldSample(rss, report.timeline);
    const gatewayRss = atEnd?.gateways ?? startupRss;
    const redisRss = atEnd?.redis ?? broker.rss();
    const peak = (pick: (s: (typeof rss)[number]) => number) => Math.max(0, ...rss.map(pick));
    const figures = {
      connectionsRequested: options.connections,
      connectionsHeld: held,
      connectionsSubscribed: report.connections.subscribed,
      deliveriesPerSecond: report.deliveries.perSecond,
      broadcastSeconds: Math.round(report.publish.seconds * 10) / 10,
      p99Ms: report.latencyMs.p99,
      lost: report.loss.lost,
      duplicated: report.loss.duplicated,
      connectErrors: report.connections.connectErrors,
    };
    const goals = boxGoals(figures);
    const result: BoxResult = {
      date: new Date().toISOString(),
      ...figures,
      gateways: options.gateways,
      workers: options.workers,
      channels: options.channels,
      subscribersPerChannel: Math.round(options.connections / options.channels),
      rampSeconds: options.rampSeconds,
      holdSeconds: options.holdSeconds,
      gatewayRssBytes: gatewayRss,
      gatewayBytesPerConnection: held > 0 ? Math.round((gatewayRss - baseline) / held) : 0,
      workerRssBytes: Math.max(0, ...report.timeline.map((p) => p.workersRss)),
      redisRssBytes: redisRss,
      peakRssBytes: {
        gateways: peak((s) => s.gateways),
        loadWorkers: peak((s) => s.loadWorkers),
        redis: peak((s) => s.redis),
      },
      publishRatePerSecond: report.publish.ratePerSecond,
      publishFailed: report.publish.failed,
      p50Ms: report.latencyMs.p50,
      p999Ms: report.latencyMs.p999,
      reconnects: report.reconnects.count,
      connectRatePerSecond: report.connections.connectRatePerSecond,
      peakConnectsPerSecond: Math.max(0, ...report.timeline.map((p) => p.connectsPerSecond)),
      cpuCores: {
        gateways: cores(cpuAfter.gateways - cpuBefore.gateways),
        loadWorkers: cores(cpuAfter.children - cpuBefore.children),
        redis: cores(cpuAfter.redis - cpuBefore.redis),
      },
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
      goals,
      pass: goals.every((g) => g.pass),
      rssTimeline: rss,
    };
    const lines = boxSummaryLines(result, options.json);
    await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(options.html, renderBoxHtml(result, report, [...lines, "", ...summaryLines(report)]));
    if (options.readme) {
      const readme = await readFile(options.readme, "utf8");
      await writeFile(options.readme, replaceResultsBlock(readme, boxResultsBlock(result), "box"));
    }
    process.stdout.write(`\n${lines.join("\n")}\n\n`);
    return result;
  } finally {
    if (sampler) clearInterval(sampler);
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await Promise.all(gateways.map((g) => g.stop()));
    await redis?.stop();
  }
}
