// `rtgw bench` / `make bench`: our gateway, Socket.IO + redis-adapter, bare uWS.js and Soketi, one after the other
// in one run on this machine, through the same load workers and publisher (scenarios.ts). Per system:
//   memory   idle memory: server RSS delta / N at N subscribed, silent connections
//   fanout   closed-loop publishing to one channel with many subscribers; deliveries/s
//   latency  publish-to-receive p50/p99 at a fixed moderate rate
//   cross    two server processes sharing one Redis; publish on one, receive on both
//   connect  new connections/s one process accepts
//   relay    one pod at its open-file cap relaying from Redis: deliveries/s and p99
// and once per run (with rtgw among the systems):
//   publish  publishes/s through our Redis broker's publish script beside raw redis-benchmark PUBLISH
import { readFile, writeFile } from "node:fs/promises";
import { inspectorOptions } from "./collect-garbage.js";
import { log, sleep } from "./load-pool.js";
import { freePort, type ServerProcess, type SystemName, startRedisServer, startSystem } from "./processes.js";
import { redisPublish } from "./redis-publish.js";
import {
  type BenchResults,
  emptyFigures,
  goals,
  LABELS,
  markdownTables,
  replaceResultsBlock,
  resultsBlock,
  type SystemFigures,
  verdict,
} from "./results.js";
import { connectRate, crossProcess, fanout, idleMemory, latency, relayAtCap } from "./scenarios.js";
import { FULL, QUICK, type Sizes } from "./sizes.js";

export const SCENARIOS = ["memory", "fanout", "latency", "cross", "connect", "relay", "publish"] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const SYSTEMS = ["rtgw", "socketio", "uws", "soketi"] as const satisfies readonly SystemName[];

export interface BenchOptions {
  quick: boolean;
  systems: string[];
  /** Which scenarios to run (all by default); a partial run writes no files. */
  scenarios?: readonly Scenario[];
  json: string;
  readme: string;
}

/** Runs `run` when `what` is selected, logging its time; a failed scenario leaves its figure null. */
async function attempt(
  label: string,
  what: Scenario,
  scenarios: readonly Scenario[],
  run: () => Promise<void>,
): Promise<void> {
  if (!scenarios.includes(what)) return;
  const started = Date.now();
  try {
    await run();
  } catch (error) {
    log(`${label} ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  log(`${label} ${what} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function measureSystem(
  system: SystemName,
  redisUrl: string,
  sizes: Sizes,
  scenarios: readonly Scenario[],
): Promise<SystemFigures> {
  const figures: SystemFigures = emptyFigures();
  const run = (what: Scenario, body: () => Promise<void>) => attempt(system, what, scenarios, body);
  // Idle memory on a server of its own, its inspector open (the row asks it for full collections).
  await run("memory", async () => {
    const inspectPort = await freePort();
    const alone = await startSystem(system, undefined, { NODE_OPTIONS: inspectorOptions(inspectPort) });
    try {
      figures.bytesPerConnection = await idleMemory(system, alone, inspectPort, sizes);
    } finally {
      await alone.stop();
    }
  });
  const onOneProcess: readonly Scenario[] = ["fanout", "latency", "connect"];
  const server = scenarios.some((s) => onOneProcess.includes(s)) ? await startSystem(system) : null;
  try {
    await sleep(1_000);
    await run("fanout", async () => {
      figures.fanoutDeliveriesPerSecond = await fanout(system, server as ServerProcess, sizes);
    });
    await sleep(1_000);
    await run("latency", async () => {
      const { p50, p99 } = await latency(system, server as ServerProcess, sizes);
      figures.p50Ms = p50;
      figures.p99Ms = p99;
    });
    await sleep(1_000);
    await run("connect", async () => {
      figures.connectsPerSecond = await connectRate(system, server as ServerProcess, sizes);
    });
  } finally {
    await server?.stop();
  }
  await run("cross", async () => {
    figures.crossProcessDeliveriesPerSecond = await crossProcess(system, redisUrl, sizes);
  });
  await run("relay", async () => {
    const relay = await relayAtCap(system, redisUrl, sizes);
    figures.relayDeliveriesPerSecond = relay.deliveriesPerSecond;
    figures.relayP99Ms = relay.p99;
    figures.relayPodCpuCores = relay.podCpuCores;
    figures.relayFeederCpuCores = relay.feederCpuCores;
  });
  log(`${system}: ${JSON.stringify(figures)}`);
  return figures;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const sizes = options.quick ? QUICK : FULL;
  const scenarios = options.scenarios ?? SCENARIOS;
  const complete = SCENARIOS.every((s) => scenarios.includes(s));
  const systems = options.systems.filter((s): s is SystemName => (SYSTEMS as readonly string[]).includes(s));
  const startedAt = Date.now();
  const redis = await startRedisServer();
  const results: BenchResults = { systems: {}, redisPublish: null };
  try {
    for (const system of systems) {
      log(`measuring ${LABELS[system] ?? system}`);
      try {
        results.systems[system] = await measureSystem(system, redis.url, sizes, scenarios);
      } catch (error) {
        // A system that cannot start (Soketi without the npm registry, say) leaves its row empty, not the run.
        log(`${system} did not start: ${error instanceof Error ? error.message : String(error)}`);
        results.systems[system] = emptyFigures();
      }
    }
    if (systems.includes("rtgw"))
      await attempt("redis", "publish", scenarios, async () => {
        results.redisPublish = await redisPublish(redis, sizes);
      });
  } finally {
    await redis.stop();
  }
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  process.stdout.write(`\n${markdownTables(results)}\n\n${verdict(results).line}\n${goals(results).line}\n`);
  process.stdout.write(`(ratios in parentheses: that system's figure / our gateway's; ${seconds} s)\n`);
  if (!options.quick && complete) {
    await writeFile(options.json, `${JSON.stringify(results, null, 2)}\n`);
    const note =
      `Measured by \`make bench\` on ${new Date().toISOString().slice(0, 10)}: ${sizes.idleConnections} idle connections, ` +
      `${sizes.fanoutSubscribers} fan-out subscribers, ${sizes.latencySubscribers} subscribers at ${sizes.latencyRate} msg/s for latency, ` +
      `${sizes.crossSubscribers} subscribers over two processes for cross-process, ${sizes.connectConnections} connections for the connect rate, ` +
      `${sizes.relayConnections} subscribers on ${sizes.relayChannels} channels for the pod at its cap, ${sizes.publishCount} publishes into Redis; ratios are that system / our gateway.`;
    const readme = await readFile(options.readme, "utf8");
    await writeFile(options.readme, replaceResultsBlock(readme, resultsBlock(results, note)));
    log(`wrote ${options.json} and the results block of ${options.readme}`);
  }
  return results;
}
