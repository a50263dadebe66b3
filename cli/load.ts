// `rtgw load`, `rtgw bench`, `rtgw bench box`: commander parses argv and writes the help; the cli/*-flags.ts schemas
// validate what it parsed (exit 2 naming each bad flag) before anything is started or even imported.
import { Command } from "commander";
import { orExit } from "../config/parse.js";
import { effectiveMaxConnections, readOpenFileLimit } from "../gateway/src/limits.js";
import {
  BOX_CONNECTS_PER_SECOND,
  BOX_SCENARIO,
  CONNECTIONS_PER_BOX_WORKER,
  CONNECTIONS_PER_GATEWAY,
} from "../loadtest/src/box/plan.js";
import { BENCH_SCENARIOS, BENCH_SYSTEMS, parseBenchFlags } from "./bench-flags.js";
import { MAX_BOX_GATEWAYS, parseBoxFlags } from "./box-flags.js";
import { LOAD_LIMITS, parseLoadFlags } from "./load-flags.js";

/** Repeated or comma-separated values, in order (argv splitting only: the schemas validate each). */
const collect = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean),
];

export function loadCommand(): Command {
  return new Command("load")
    .description("generate WebSocket load against gateways (many processes, many loopback source addresses)")
    .option(
      "--target <url>",
      "required: ws://127.x.y.z:port/path (loopback: workers connect from 127.x.y.z); repeat or comma-separate for several gateways",
      collect,
      [],
    )
    .option("--connections <n>", `connections to open in total (1-${LOAD_LIMITS.connections})`, "1000")
    .option("--ramp-seconds <s>", `open them evenly over this long (0-${LOAD_LIMITS.rampSeconds})`, "10")
    .option(
      "--hold-seconds <s>",
      `then hold them, publishing, for this long (0-${LOAD_LIMITS.holdSeconds})`,
      "30",
    )
    .option(
      "--channels <n>",
      `channels; connection i subscribes to channel i mod n (1-${LOAD_LIMITS.channels})`,
      "10",
    )
    .option("--channel-prefix <prefix>", "channel names are <prefix><i>", "load:")
    .option("--publish-rate <r>", "messages per second over all channels (0: none)", "10")
    .option(
      "--api-key <key>",
      "publish through POST /api/publish with this key (else a publisher connection)",
    )
    .option("--token <jwt>", "token for every connection (not with --jwt-secret)")
    .option("--jwt-secret <secret>", "mint HS256 tokens with this secret (RTGW_JWT_SECRET)")
    .option("--json <file>", "write the JSON report here")
    .option("--html <file>", "write the HTML report (charts) here")
    .option(
      "--workers <n>",
      `worker processes: "auto" (one per 16,000 connections) or 1-${LOAD_LIMITS.workers}`,
      "auto",
    )
    .option("--dialect <name>", "protocol to speak: rtgw or socketio", "rtgw")
    .option("--no-reconnect", "do not reconnect dropped connections")
    .option("--quiet", "no progress line or summary")
    .action(async (flags: Record<string, unknown>) => {
      const options = orExit("rtgw load", parseLoadFlags(flags));
      const { runLoad } = await import("../loadtest/src/load/run-load.js");
      const report = await runLoad(options);
      const failed =
        report.loss.lost > 0 ||
        report.loss.duplicated > 0 ||
        report.connections.connectErrors > 0 ||
        report.workersMissing.length > 0;
      process.exitCode = failed ? 1 : 0;
    });
}

export function benchCommand(): Command {
  return (
    new Command("bench")
      .description("benchmark the gateway beside Socket.IO + redis-adapter and bare uWS.js, in one run")
      .option("--quick", "small sizes, no files written (a smoke run; figures not comparable)")
      .option(`--systems <list>`, `comma list of ${BENCH_SYSTEMS.join(", ")}`, BENCH_SYSTEMS.join(","))
      .option(
        "--scenarios <list>",
        `comma list of ${BENCH_SCENARIOS.join(", ")} (a partial run writes no files)`,
      )
      .option("--json <file>", "results file", "loadtest/results/bench.json")
      .option("--readme <file>", "README whose bench results block is regenerated", "README.md")
      // Options after `box` are box's: `rtgw bench box --json x` is a usage error, not a bench run with --json.
      .enablePositionalOptions()
      .addCommand(boxCommand())
      .action(async (flags: Record<string, unknown>) => {
        const options = orExit("rtgw bench", parseBenchFlags(flags));
        const { runBench } = await import("../loadtest/src/bench/run-bench.js");
        await runBench(options);
      })
  );
}

function boxCommand(): Command {
  return (
    new Command("box")
      .description(
        "hold 500,000 subscribed connections on this machine with ≥100,000 deliveries/s: gateways on one Redis, load workers, a broadcast stream",
      )
      .option("--connections <n>", "connections in total", String(BOX_SCENARIO.connections))
      .option(
        "--gateways <n>",
        `gateway processes, 1-${MAX_BOX_GATEWAYS}, each below its ~19,900 open-file cap (default: one per ${CONNECTIONS_PER_GATEWAY.toLocaleString("en-US")} connections)`,
      )
      .option(
        "--workers <n>",
        `load worker processes (each at most 18,000), or "auto" (default: one per ${CONNECTIONS_PER_BOX_WORKER.toLocaleString("en-US")} connections)`,
      )
      .option(
        "--ramp-seconds <s>",
        `ramp (default: connections / ${BOX_CONNECTS_PER_SECOND.toLocaleString("en-US")} per second)`,
      )
      .option("--hold-seconds <s>", "hold, publishing", String(BOX_SCENARIO.holdSeconds))
      .option(
        "--channels <n>",
        "channels (connection i subscribes to channel i mod n)",
        String(BOX_SCENARIO.channels),
      )
      .option("--publish-rate <r>", "messages per second over all channels", String(BOX_SCENARIO.publishRate))
      // Not --json/--html: `bench` has those, and `rtgw bench --json x box` would read as bench's.
      .option(
        "--out <file>",
        "results file, *.json (the load report goes beside it as *-load.json)",
        "loadtest/results/box.json",
      )
      .option("--report <file>", "HTML report (default: beside --out, as *.html)")
      .option("--update-readme <file>", "regenerate the box results block of this README")
      .option(
        "--profile",
        "run one gateway and one load worker under --cpu-prof (into <out>-profile/) and print their top self-time functions",
      )
      .option(
        "--frontier <rates>",
        "run the box once per message rate (e.g. 5,10,22) and print where the p99 crosses 100 ms (<out>-frontier.json)",
      )
      .action(async (flags: Record<string, unknown>) => {
        // Gateways inherit this process's open-file limit; the gateway's default RTGW_MAX_CONNECTIONS is 100,000.
        const openFiles = readOpenFileLimit();
        const gatewayCapacity =
          openFiles === undefined ? undefined : effectiveMaxConnections(100_000, openFiles);
        const options = orExit("rtgw bench box", parseBoxFlags(flags, { gatewayCapacity }));
        const { runBox, runFrontier } = await import("../loadtest/src/box/run-box.js");
        if (options.frontier) {
          const frontier = await runFrontier(options, options.frontier);
          process.exitCode = frontier.ok ? 0 : 1;
          return;
        }
        const result = await runBox(options);
        process.exitCode = result.pass ? 0 : 1;
      })
  );
}
