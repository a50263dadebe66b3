// What the slow-consumer check costs the gateway when few sockets are on the busy channel: one gateway process
// on the memory broker, N idle sockets over C channels (connection i on channel i mod C), and publishing to
// one of those channels only, at a fixed rate its few subscribers can keep up with. Reports the gateway's CPU
// (and, as checks, deliveries against what was published and slow-consumer closes). Not part of `make bench`;
// run it by hand (about half a minute):
//
//   node --import tsx loadtest/src/bench/sweep-cost.ts [connections] [channels] [bytes] [rate/s] [bound bytes]
import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  BENCH_API_KEY,
  freePort,
  type ServerProcess,
  startSystem,
  wsUrlOf,
} from "../../loadtest/src/bench/processes.js";
import type { WorkerConfig } from "../../loadtest/src/load/ipc.js";
import { channelNames, sourceAddresses, splitConnections } from "../../loadtest/src/load/plan.js";
import { httpPublisher, type Publisher } from "../../loadtest/src/load/publisher.js";
import { sumTicks } from "../../loadtest/src/load/report.js";
import { WorkerPool } from "../../loadtest/src/load/worker-pool.js";
import { sleep } from "../../test-support/wait.js";

const positional = (name: string, fallback: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .min(1, `${name} must be at least 1`)
    .max(max, `${name} must be at most ${max}`)
    .default(fallback);
const args = z
  .tuple([
    positional("connections", 15_000, 18_000),
    positional("channels", 1_000, 100_000),
    positional("bytes", 4096, 1_048_576),
    positional("rate/s", 1_000, 1_000_000),
    positional("bound bytes", 65_536, 1_073_741_824),
  ])
  .safeParse(process.argv.slice(2));
if (!args.success) {
  console.error(`sweep-cost: ${args.error.issues.map((i) => i.message).join("; ")}`);
  process.exit(2);
}
const [connections, channelCount, messageBytes, rate, bound] = args.data;
const WORKERS = 1;
const MEASURE_MS = 6_000;
const IN_FLIGHT = 64;

const log = (line: string) => process.stderr.write(`sweep-cost: ${line}\n`);

/** utime + stime of a process, in seconds (from /proc; clock ticks are 100 Hz on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function openIdle(server: ServerProcess, channels: string[]): Promise<WorkerPool> {
  const configs: WorkerConfig[] = splitConnections(connections, WORKERS).map((share, i) => ({
    workerIndex: i,
    targets: [wsUrlOf("rtgw", server.port)],
    dialect: "rtgw",
    first: share.first,
    connections: share.count,
    sourceAddresses: sourceAddresses(i, share.count),
    rampSeconds: 0,
    channels,
    mode: "count",
    reportIntervalMs: 100,
    deadlineMs: 300_000,
    maxPendingConnects: 256,
    reconnect: false,
  }));
  const pool = new WorkerPool(configs);
  pool.start();
  const until = Date.now() + 120_000;
  for (;;) {
    const total = sumTicks([...pool.latest.values()]);
    if (pool.latest.size === configs.length && total.subscribed >= connections) return pool;
    if (total.connectErrors > 0 || pool.lost > 0 || Date.now() > until) {
      pool.kill();
      throw new Error(`only ${total.subscribed} of ${connections} subscribed`);
    }
    await sleep(200);
  }
}

/** Publish at `rate` per second (at most IN_FLIGHT at a time) for `ms`; returns published/s and gateway CPU. */
async function publishFor(
  server: ServerProcess,
  publisher: Publisher,
  channel: string,
  data: string,
  rate: number,
  ms: number,
): Promise<{ perSecond: number; cpuPercent: number }> {
  let sent = 0;
  let done = 0;
  let inFlight = 0;
  let failed = 0;
  const start = Date.now();
  const cpuStart = cpuSeconds(server.pid);
  const end = start + ms;
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - start) * rate) / 1000);
    while (sent < due && inFlight < IN_FLIGHT) {
      sent++;
      inFlight++;
      publisher.publish(channel, data).then(
        () => {
          inFlight--;
          done++;
        },
        () => {
          inFlight--;
          failed++;
        },
      );
    }
    await sleep(1);
  }
  const seconds = (Date.now() - start) / 1000;
  const cpu = cpuSeconds(server.pid) - cpuStart;
  if (failed > 0) log(`${failed} publishes failed`);
  return { perSecond: Math.round(done / seconds), cpuPercent: Math.round((cpu / seconds) * 100) };
}

async function slowConsumerCloses(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("rtgw_slow_consumer_disconnects_total "));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

async function main(): Promise<void> {
  const metricsPort = await freePort();
  const server = await startSystem("rtgw", undefined, {
    RTGW_MAX_CONNECTIONS: String(connections + 100),
    RTGW_MAX_BACKPRESSURE_BYTES: String(bound),
    RTGW_METRICS_PORT: String(metricsPort),
  });
  let pool: WorkerPool | undefined;
  const publisher = httpPublisher([`http://127.0.0.1:${server.port}`], BENCH_API_KEY);
  try {
    const channels = channelNames("quiet:", channelCount);
    const busy = channels[0] as string;
    const subscribers = Math.ceil(connections / channelCount);
    pool = await openIdle(server, channels);
    log(`${connections} sockets on ${channelCount} channels; ${rate}/s of ${messageBytes} B to ${busy}`);
    const data = JSON.stringify("x".repeat(messageBytes));
    const before = sumTicks([...pool.latest.values()]).delivered;
    await publishFor(server, publisher, busy, data, rate, 1_000); // warm-up
    const fixed = await publishFor(server, publisher, busy, data, rate, MEASURE_MS);
    await sleep(500);
    const published = Math.round(fixed.perSecond * (MEASURE_MS / 1000)) + rate;
    const result = {
      connections,
      channels: channelCount,
      messageBytes,
      boundBytes: bound,
      rate,
      publishedPerSecond: fixed.perSecond,
      gatewayCpuPercent: fixed.cpuPercent,
      deliveredOfPublished: `${sumTicks([...pool.latest.values()]).delivered - before} of ~${published * subscribers}`,
      slowConsumerCloses: await slowConsumerCloses(metricsPort),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    publisher.close();
    if (pool) {
      await pool.finish({}, 10_000);
      pool.kill();
    }
    await server.stop();
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
