// `rtgw load`: plan → fork workers → ramp → publish for the hold → settle → finish → report.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { renderHtmlReport } from "./html-report.js";
import type { WorkerConfig, WorkerTick } from "./ipc.js";
import { channelNames, sourceAddresses, splitConnections, workerCount } from "./plan.js";
import {
  httpBaseOf,
  httpPublisher,
  type PublishStats,
  publishAtRate,
  socketPublishers,
} from "./publisher.js";
import { buildReport, type LoadReport, summaryLines, sumTicks, type TimelinePoint } from "./report.js";
import { mintToken } from "./tokens.js";
import { WorkerPool } from "./worker-pool.js";

export const loadOptions = z
  .object({
    targets: z.array(z.string().regex(/^ws:\/\/[^/]+\/.*$/, "a target looks like ws://host:port/ws")).min(1),
    connections: z.number().int().positive().max(2_000_000),
    rampSeconds: z.number().nonnegative().max(3_600),
    holdSeconds: z.number().nonnegative().max(86_400),
    channels: z.number().int().positive().max(100_000),
    channelPrefix: z.string().min(1).default("load:"),
    publishRate: z.number().nonnegative().max(1_000_000),
    apiKey: z.string().optional(),
    token: z.string().optional(),
    jwtSecret: z.string().optional(),
    json: z.string().optional(),
    html: z.string().optional(),
    workers: z.union([z.literal("auto"), z.number().int().positive().max(250)]),
    dialect: z.enum(["rtgw", "socketio"]).default("rtgw"),
    /** Quiet seconds between the ramp and the hold, so the broadcast meets the held state, not the ramp's tail. */
    pauseSeconds: z.number().nonnegative().max(600).default(0),
    /** Bound on concurrent handshakes per worker. */
    maxPendingConnects: z.number().int().positive().default(500),
    reconnect: z.boolean().default(true),
    quiet: z.boolean().default(false),
    /** Run worker 0 under `node --cpu-prof`, its profile written into this folder when it exits (the box's --profile). */
    profileDir: z.string().min(1).optional(),
  })
  .refine((o) => !(o.token && o.jwtSecret), { message: "give --token or --jwt-secret, not both" });
export type LoadOptions = z.input<typeof loadOptions>;

function progressLine(
  elapsedS: number,
  total: WorkerTick | ReturnType<typeof sumTicks>,
  point: TimelinePoint,
  requested: number,
): string {
  const filled = Math.round((20 * Math.min(total.held, requested)) / Math.max(1, requested));
  const bar = `${"#".repeat(filled)}${".".repeat(20 - filled)}`;
  return (
    `[${elapsedS.toFixed(0).padStart(4)}s] [${bar}] held ${total.held}/${requested} (+${point.connectsPerSecond}/s, ` +
    `${total.connectErrors} errors)  deliveries ${point.deliveriesPerSecond}/s  p99 ${point.p99Ms ?? "-"} ms  ` +
    `lost ${total.lost} dup ${total.duplicated} reconnects ${total.reconnects}`
  );
}

export async function runLoad(input: LoadOptions): Promise<LoadReport> {
  const options = loadOptions.parse(input);
  const startedAt = Date.now();
  const workers = workerCount(options.connections, options.workers);
  const channels = channelNames(options.channelPrefix, options.channels);
  const ttlSeconds = Math.ceil(options.rampSeconds + options.holdSeconds + 3_600);
  const tokenFor = async (sub: string) =>
    options.jwtSecret
      ? mintToken({
          secret: options.jwtSecret,
          sub,
          ttlSeconds,
          subscribe: [`${options.channelPrefix}*`],
          publish: [`${options.channelPrefix}*`],
        })
      : options.token;
  // The workers' own stop, whatever the coordinator does: the ramp may run a minute late (rampUntil below) and the
  // settle and finish take up to ~35 s more, so a slow ramp still gets its whole hold.
  const deadlineMs =
    Math.ceil((options.rampSeconds + options.pauseSeconds + options.holdSeconds) * 1000) + 120_000;
  const configs: WorkerConfig[] = [];
  for (const [w, share] of splitConnections(options.connections, workers).entries()) {
    const token = await tokenFor(`load-worker-${w}`);
    configs.push({
      workerIndex: w,
      targets: options.targets,
      dialect: options.dialect,
      first: share.first,
      connections: share.count,
      sourceAddresses: sourceAddresses(w, share.count),
      rampSeconds: options.rampSeconds,
      channels,
      ...(token ? { token } : {}),
      mode: "track",
      reportIntervalMs: 500,
      deadlineMs,
      maxPendingConnects: options.maxPendingConnects,
      reconnect: options.reconnect,
    });
  }

  const pool = new WorkerPool(
    configs,
    options.profileDir ? new Map([[0, ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`]]]) : new Map(),
  );
  const timeline: TimelinePoint[] = [];
  let previous = { opened: 0, delivered: 0, at: startedAt };
  const sample = (): { point: TimelinePoint; total: ReturnType<typeof sumTicks> } => {
    const total = sumTicks([...pool.latest.values()]);
    const now = Date.now();
    const seconds = Math.max(0.001, (now - previous.at) / 1000);
    const point: TimelinePoint = {
      t: Math.round((now - startedAt) / 100) / 10,
      held: total.held,
      connectsPerSecond: Math.round((total.opened - previous.opened) / seconds),
      deliveriesPerSecond: Math.round((total.delivered - previous.delivered) / seconds),
      p50Ms: total.intervalP50Ms,
      p99Ms: total.intervalP99Ms,
      p999Ms: total.intervalP999Ms,
      workersRss: total.rss,
    };
    previous = { opened: total.opened, delivered: total.delivered, at: now };
    return { point, total };
  };
  const tty = process.stderr.isTTY;
  const progress = setInterval(() => {
    const { point, total } = sample();
    timeline.push(point);
    if (options.quiet) return;
    const line = progressLine((Date.now() - startedAt) / 1000, total, point, options.connections);
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (timeline.length % 5 === 0) process.stderr.write(`${line}\n`);
  }, 1000);

  let publishStats: PublishStats = {
    sent: 0,
    acked: 0,
    failed: 0,
    skipped: 0,
    finalOffsets: {},
    errorSamples: [],
  };
  let publishSeconds = 0;
  let deliverySeconds = 0;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    pool.kill();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    pool.start();
    // Ramp: until every connection of the live workers opened or failed, bounded by the ramp time plus a minute. A
    // worker that dies does not stop the run: the others carry on, and the report names it with its figures missing.
    const rampUntil = startedAt + options.rampSeconds * 1000 + 60_000;
    let dead = 0;
    while (Date.now() < rampUntil) {
      const lost = pool.lostIndices();
      if (lost.size > dead && !options.quiet)
        process.stderr.write(
          `\nload: worker(s) ${[...lost].join(", ")} died; the run goes on without them\n`,
        );
      dead = lost.size;
      const live = configs.filter((c) => !lost.has(c.workerIndex));
      const total = sumTicks(live.flatMap((c) => pool.latest.get(c.workerIndex) ?? []));
      const expected = live.reduce((sum, c) => sum + c.connections, 0);
      const settled = total.subscribed + total.connectErrors >= expected;
      const allTicked = live.every((c) => pool.latest.has(c.workerIndex));
      if (allTicked && settled && Date.now() - startedAt >= options.rampSeconds * 1000) break;
      await sleep(100);
    }
    if (options.pauseSeconds > 0) await sleep(options.pauseSeconds * 1000);
    // Hold, publishing at the rate.
    const holdStart = Date.now();
    if (options.publishRate > 0) {
      const publisher = options.apiKey
        ? httpPublisher(options.targets.map(httpBaseOf), options.apiKey)
        : await socketPublishers(
            options.targets[0] as string,
            await tokenFor("load-publisher"),
            Math.min(50, Math.ceil(options.publishRate / 40)),
          );
      try {
        publishStats = await publishAtRate({
          publisher,
          channels,
          ratePerSecond: options.publishRate,
          stopAt: holdStart + options.holdSeconds * 1000,
        });
      } finally {
        publisher.close();
      }
    } else {
      await sleep(options.holdSeconds * 1000);
    }
    publishSeconds = (Date.now() - holdStart) / 1000;
    // Settle: wait until deliveries stop (at most 5 s), so tail loss counts only what never came.
    let delivered = -1;
    const settleUntil = Date.now() + 5_000;
    while (Date.now() < settleUntil) {
      const now = sumTicks([...pool.latest.values()]).delivered;
      if (now === delivered) break;
      delivered = now;
      await sleep(1_000);
    }
    deliverySeconds = Math.max(0.001, publishSeconds);
    // Workers that miss the deadline or died are named in the report, not thrown: the run's figures are kept.
    const results = await pool.finish(publishStats.finalOffsets);
    const workersMissing = pool.missing();
    clearInterval(progress);
    if (!options.quiet && tty) process.stderr.write("\n");
    const report = buildReport({
      startedAt,
      endedAt: Date.now(),
      config: {
        ...options,
        jwtSecret: options.jwtSecret ? "(set)" : undefined,
        token: options.token ? "(set)" : undefined,
        apiKey: options.apiKey ? "(set)" : undefined,
        workers,
      },
      requested: options.connections,
      results,
      publish: publishStats,
      publishSeconds,
      timeline,
      deliverySeconds,
      workersStarted: workers,
      workersMissing,
    });
    const summary = summaryLines(report);
    if (!options.quiet) for (const line of summary) process.stdout.write(`${line}\n`);
    for (const file of [options.json, options.html])
      if (file) await mkdir(dirname(file), { recursive: true });
    if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    if (options.html) await writeFile(options.html, renderHtmlReport(report, summary));
    return report;
  } finally {
    clearInterval(progress);
    process.removeListener("SIGINT", stopOnSignal);
    process.removeListener("SIGTERM", stopOnSignal);
    // A profiled worker writes its profile as it exits after reporting: let it, before any SIGKILL.
    if (options.profileDir) await pool.exitedAll(15_000);
    pool.kill();
    // A worker still running at the deadline is SIGKILLed above: wait for it, so none outlives the run.
    await pool.exitedAll();
  }
}
