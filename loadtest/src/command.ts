import { Command, InvalidArgumentError, Option } from "commander";

const collect = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean),
];
const number = (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new InvalidArgumentError("expected a non-negative number");
  return parsed;
};
const workers = (value: string): number | "auto" => {
  if (value === "auto") return "auto";
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('expected "auto" or a positive integer');
  return parsed;
};

export function loadCommand(): Command {
  return new Command("load")
    .description("generate WebSocket load against gateways (many processes, many loopback source addresses)")
    .requiredOption(
      "--target <url>",
      "ws://host:port/ws; repeat or comma-separate for several gateways",
      collect,
      [],
    )
    .option("--connections <n>", "connections to open in total", number, 1000)
    .option("--ramp-seconds <s>", "open them evenly over this long", number, 10)
    .option("--hold-seconds <s>", "then hold them, publishing, for this long", number, 30)
    .option("--channels <n>", "channels; connection i subscribes to channel i mod n", number, 10)
    .option("--channel-prefix <prefix>", "channel names are <prefix><i>", "load:")
    .option("--publish-rate <r>", "messages per second over all channels (0: none)", number, 10)
    .option(
      "--api-key <key>",
      "publish through POST /api/publish with this key (else a publisher connection)",
    )
    .option("--token <jwt>", "token for every connection")
    .option("--jwt-secret <secret>", "mint HS256 tokens with this secret (RTGW_JWT_SECRET)")
    .option("--json <file>", "write the JSON report here")
    .option("--html <file>", "write the HTML report (charts) here")
    .option(
      "--workers <n>",
      'worker processes: "auto" (one per 16,000 connections) or a number',
      workers,
      "auto",
    )
    .addOption(
      new Option("--dialect <name>", "protocol to speak").choices(["rtgw", "socketio"]).default("rtgw"),
    )
    .option("--no-reconnect", "do not reconnect dropped connections")
    .option("--quiet", "no progress line or summary")
    .action(async (flags: Record<string, unknown>) => {
      const { runLoad } = await import("./load/run-load.js");
      const report = await runLoad({
        targets: flags.target as string[],
        connections: flags.connections as number,
        rampSeconds: flags.rampSeconds as number,
        holdSeconds: flags.holdSeconds as number,
        channels: flags.channels as number,
        channelPrefix: flags.channelPrefix as string,
        publishRate: flags.publishRate as number,
        apiKey: flags.apiKey as string | undefined,
        token: flags.token as string | undefined,
        jwtSecret: flags.jwtSecret as string | undefined,
        json: flags.json as string | undefined,
        html: flags.html as string | undefined,
        workers: flags.workers as number | "auto",
        dialect: flags.dialect as "rtgw" | "socketio",
        reconnect: flags.reconnect as boolean,
        quiet: Boolean(flags.quiet),
      });
      const failed =
        report.loss.lost > 0 || report.loss.duplicated > 0 || report.connections.connectErrors > 0;
      process.exitCode = failed ? 1 : 0;
    });
}

export function benchCommand(): Command {
  return new Command("bench")
    .description("benchmark the gateway beside Socket.IO + redis-adapter and bare uWS.js, in one run")
    .option("--quick", "small sizes, no files written (a smoke run; figures not comparable)")
    .option("--systems <list>", "comma list of rtgw, socketio, uws", "rtgw,socketio,uws")
    .option(
      "--scenarios <list>",
      "comma list of memory, fanout, latency, cross (a partial run writes no files)",
    )
    .option("--json <file>", "results file", "loadtest/results/bench.json")
    .option("--readme <file>", "README whose bench results block is regenerated", "README.md")
    .addCommand(boxCommand())
    .action(
      async (flags: {
        quick?: boolean;
        systems: string;
        scenarios?: string;
        json: string;
        readme: string;
      }) => {
        const { runBench, SCENARIOS } = await import("./bench/run-bench.js");
        const scenarios = flags.scenarios?.split(",").map((s) => s.trim());
        const unknown = scenarios?.filter((s) => !(SCENARIOS as readonly string[]).includes(s)) ?? [];
        if (unknown.length > 0) throw new InvalidArgumentError(`unknown scenario(s): ${unknown.join(", ")}`);
        await runBench({
          scenarios: scenarios as (typeof SCENARIOS)[number][] | undefined,
          quick: Boolean(flags.quick),
          systems: flags.systems.split(",").map((s) => s.trim()),
          json: flags.json,
          readme: flags.readme,
        });
      },
    );
}

function boxCommand(): Command {
  return (
    new Command("box")
      .description(
        "hold ~200,000 connections on this machine: gateways on one Redis, load workers, a broadcast stream",
      )
      .option("--connections <n>", "connections in total", number, 200_000)
      .option(
        "--gateways <n>",
        "gateway processes (each holds at most ~19,900: the open-file limit)",
        number,
        12,
      )
      .option("--workers <n>", "load worker processes (each at most 18,000)", number, 12)
      .option("--ramp-seconds <s>", "ramp", number, 150)
      .option("--hold-seconds <s>", "hold, publishing", number, 60)
      .option("--channels <n>", "channels", number, 100)
      .option("--publish-rate <r>", "messages per second over all channels", number, 10)
      // Not --json/--html: `bench` owns those names, and commander hands a parent's options to the parent.
      .option(
        "--out <file>",
        "results file (the load report goes beside it as *-load.json)",
        "loadtest/results/box.json",
      )
      .option("--report <file>", "HTML report", "loadtest/results/box.html")
      .option("--update-readme <file>", "regenerate the box results block of this README")
      .action(async (flags: Record<string, number | string>) => {
        const { runBox } = await import("./box/run-box.js");
        const result = await runBox({
          connections: flags.connections as number,
          gateways: flags.gateways as number,
          workers: flags.workers as number,
          rampSeconds: flags.rampSeconds as number,
          holdSeconds: flags.holdSeconds as number,
          channels: flags.channels as number,
          publishRate: flags.publishRate as number,
          json: flags.out as string,
          html: flags.report as string,
          readme: flags.updateReadme as string | undefined,
        });
        const ok =
          result.connectionsHeld >= result.connectionsRequested &&
          result.lost === 0 &&
          result.duplicated === 0;
        process.exitCode = ok ? 0 : 1;
      })
  );
}
