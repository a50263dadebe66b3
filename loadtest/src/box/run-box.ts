// The box-scale run: many gateway processes on one Redis and many load workers, all on this machine, holding
// issue 14's 500,000 subscribed connections with a broadcast stream flowing. Everything is bounded (ramp + hold +
// settle) and every process it starts is killed at the end, on an exception, and on Ctrl-C / SIGTERM.
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
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
import { type FrontierPoint, findFrontier, frontierLines } from "./frontier.js";
import { renderBoxHtml } from "./html.js";
import { BOX_MAX_PENDING_CONNECTS, BOX_PAUSE_SECONDS, type BoxPlan, boxGoals } from "./plan.js";
import { type ProfileSummary, parseCpuProfile, profileLines, summarizeProfile } from "./profile.js";
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
  /** Run gateway 0 and load worker 0 under --cpu-prof, into `<json>-profile/`, and summarise their self time. */
  profile?: boolean;
  /** Message rates for `runFrontier` (the CLI's --frontier). */
  frontier?: number[];
}

/** Where --profile writes: beside box.json, e.g. loadtest/results/box-profile/. */
export function profileDirOf(json: string): string {
  return resolve(json.replace(/\.json$/, "-profile"));
}

/** Grace for the profiled gateway to exit on SIGINT and write its profile (a 500K gateway's is tens of MB). */
const PROFILE_EXIT_GRACE_MS = 15_000;

/**
 * The main thread's profile of each profiled process (a folder each: gateway-0/, load-worker-0/), summarised. Node
 * names them CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile; under tsx its loader thread writes one too (thread 1).
 */
async function summarizeProfiles(dir: string): Promise<ProfileSummary[]> {
  const root = resolve(dirname(new URL(import.meta.url).pathname), "../../..");
  const summaries: ProfileSummary[] = [];
  for (const [folder, kind] of [
    ["gateway-0", "gateway"],
    ["load-worker-0", "load worker"],
  ] as const) {
    const files = await readdir(join(dir, folder)).catch(() => [] as string[]);
    const main = files.find((f) => f.endsWith(".cpuprofile") && f.split(".")[4] === "0");
    if (!main) {
      log(`profile: no main-thread profile of the ${kind} in ${join(dir, folder)}`);
      continue;
    }
    const profile = parseCpuProfile(await readFile(join(dir, folder, main), "utf8"));
    summaries.push(summarizeProfile(profile, { process: kind, file: join(dir, folder, main), root }));
  }
  return summaries;
}

const log = (line: string) => process.stderr.write(`box: ${line}\n`);

export async function runBox(options: BoxOptions): Promise<BoxResult> {
  // Before the run, not after it: a missing folder must not cost a five-minute run its figures.
  for (const file of [options.json, options.html]) await mkdir(dirname(file), { recursive: true });
  const profileDir = options.profile ? profileDirOf(options.json) : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
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
    // With --profile, gateway 0 runs under --cpu-prof (written when it exits on SIGINT at the end).
    const profiled = (i: number): string[] =>
      profileDir && i === 0 ? ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, "gateway-0")}`] : [];
    for (let i = 0; i < options.gateways; i += 4) {
      const batch = Math.min(4, options.gateways - i);
      gateways.push(
        ...(await Promise.all(
          Array.from({ length: batch }, (_, j) => startSystem("rtgw", broker.url, {}, profiled(i + j))),
        )),
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
      // This process: the publisher (HTTP publishes) and the load coordinator.
      self: (() => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1e6;
      })(),
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
      ...(profileDir ? { profileDir: join(profileDir, "load-worker-0") } : {}),
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
      workersStarted: report.workers.started,
      workersMissing: report.workersMissing.map((m) => m.workerIndex),
    };
    const goals = boxGoals(figures);
    const seconds = (used: number) => Math.round(used * 10) / 10;
    const used = {
      gateways: cpuAfter.gateways - cpuBefore.gateways,
      loadWorkers: cpuAfter.children - cpuBefore.children,
      redis: cpuAfter.redis - cpuBefore.redis,
      publisher: cpuAfter.self - cpuBefore.self,
    };
    const result: BoxResult = {
      date: new Date().toISOString(),
      ...figures,
      gateways: options.gateways,
      workers: options.workers,
      workersReported: report.workers.reported,
      workersMissing: report.workersMissing,
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
        gateways: cores(used.gateways),
        loadWorkers: cores(used.loadWorkers),
        redis: cores(used.redis),
        publisher: cores(used.publisher),
      },
      cpuSeconds: {
        gateways: seconds(used.gateways),
        loadWorkers: seconds(used.loadWorkers),
        redis: seconds(used.redis),
        publisher: seconds(used.publisher),
      },
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
      goals,
      pass: goals.every((g) => g.pass),
      rssTimeline: rss,
    };
    if (profileDir) {
      // The profiled gateway writes its profile as it exits: stop it gracefully now, the others in `finally`.
      await gateways[0]?.stop(PROFILE_EXIT_GRACE_MS);
      try {
        result.profiles = await summarizeProfiles(profileDir);
      } catch (error) {
        log(`profile summary failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const profileText = (result.profiles ?? []).flatMap(profileLines);
    if (profileDir) await writeFile(join(profileDir, "summary.txt"), `${profileText.join("\n")}\n`);
    const lines = [...boxSummaryLines(result, options.json), ...profileText.map((l) => `box: profile: ${l}`)];
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

/**
 * The box once per message rate, fresh processes each time, then where the p99 crosses the goal: each run's files go
 * beside `json` as <name>-<rate>.json/.html, the points as <name>-frontier.json. `ok`: every run lost nothing and
 * every worker reported (the crossing itself is a measurement, not a failure).
 */
export async function runFrontier(
  options: BoxOptions,
  rates: readonly number[],
): Promise<{ points: FrontierPoint[]; ok: boolean }> {
  const points: FrontierPoint[] = [];
  const frontierJson = options.json.replace(/\.json$/, "-frontier.json");
  for (const rate of rates) {
    const base = options.json.replace(/\.json$/, `-${rate}`);
    log(`frontier: ${rate} msg/s`);
    const { readme: _readme, frontier: _frontier, ...rest } = options;
    const r = await runBox({ ...rest, publishRate: rate, json: `${base}.json`, html: `${base}.html` });
    points.push({
      publishRate: rate,
      connections: r.connectionsRequested,
      deliveriesPerSecond: r.deliveriesPerSecond,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      lost: r.lost,
      duplicated: r.duplicated,
      workersMissing: r.workersMissing.length,
      cpuCores: r.cpuCores,
    });
    // Written after every run: a later one that fails must not cost the earlier ones their figures.
    await writeFile(
      frontierJson,
      `${JSON.stringify({ date: new Date().toISOString(), points, ...findFrontier(points) }, null, 2)}\n`,
    );
  }
  const lines = frontierLines(points);
  process.stdout.write(`\n${lines.map((l) => `box: ${l}`).join("\n")}\nbox: wrote ${frontierJson}\n`);
  return {
    points,
    ok: points.every((p) => p.lost === 0 && p.duplicated === 0 && p.workersMissing === 0),
  };
}
