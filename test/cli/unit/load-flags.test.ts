// `rtgw load`, `rtgw bench` and `rtgw bench box` flags: argv through the real commander commands, then the zod
// schemas; each row is a flag set and either the options the run gets or the exact error sentences.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { BENCH_SCENARIOS, BENCH_SYSTEMS, parseBenchFlags } from "../../../cli/bench-flags.js";
import { parseBoxFlags } from "../../../cli/box-flags.js";
import { benchCommand, loadCommand } from "../../../cli/load.js";
import { isLoopbackWsUrl, parseLoadFlags } from "../../../cli/load-flags.js";
import { SCENARIOS, SYSTEMS } from "../../../loadtest/src/bench/run-bench.js";
import { type LoadOptions, loadOptions } from "../../../loadtest/src/load/run-load.js";

/** What commander hands the action for `argv` (the action itself replaced: nothing runs). */
function commanderFlags(command: Command, argv: string[]): Record<string, unknown> {
  command.exitOverride().action(() => {});
  command.parse(argv, { from: "user" });
  return command.opts();
}
const boxCommand = () => {
  const box = benchCommand().commands.find((c) => c.name() === "box");
  assert.ok(box);
  return box;
};

const T = "ws://127.0.0.1:8080/ws";
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const JWT = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "load" })}.c2ln`;

const LOAD_DEFAULTS: LoadOptions = {
  targets: [T],
  connections: 1000,
  rampSeconds: 10,
  holdSeconds: 30,
  channels: 10,
  channelPrefix: "load:",
  publishRate: 10,
  apiKey: undefined,
  token: undefined,
  jwtSecret: undefined,
  json: undefined,
  html: undefined,
  workers: "auto",
  dialect: "rtgw",
  reconnect: true,
  quiet: false,
};

describe("rtgw load flags", () => {
  const good: Array<[string, string[], Partial<LoadOptions>]> = [
    ["defaults", ["--target", T], {}],
    [
      "several targets, repeated and comma-separated",
      ["--target", `${T},ws://localhost:8081/ws`, "--target", "ws://127.0.3.4:9000/socket.io/"],
      { targets: [T, "ws://localhost:8081/ws", "ws://127.0.3.4:9000/socket.io/"] },
    ],
    [
      "every number",
      [
        ...["--target", T, "--connections", "40000", "--ramp-seconds", "2.5", "--hold-seconds", "0"],
        ...["--channels", "1", "--publish-rate", "0", "--workers", "3"],
      ],
      { connections: 40_000, rampSeconds: 2.5, holdSeconds: 0, channels: 1, publishRate: 0, workers: 3 },
    ],
    ["a token", ["--target", T, "--token", JWT], { token: JWT }],
    ["a JWT secret", ["--target", T, "--jwt-secret", "s3cret"], { jwtSecret: "s3cret" }],
    [
      "Socket.IO publishing over HTTP",
      ["--target", T, "--dialect", "socketio", "--api-key", "0123456789"],
      { dialect: "socketio", apiKey: "0123456789" },
    ],
    [
      "Socket.IO without publishing",
      ["--target", T, "--dialect", "socketio", "--publish-rate", "0"],
      { dialect: "socketio", publishRate: 0 },
    ],
    [
      "switches and files",
      [
        "--target",
        T,
        "--no-reconnect",
        "--quiet",
        "--json",
        "r.json",
        "--html",
        "r.html",
        "--channel-prefix",
        "b:",
      ],
      { reconnect: false, quiet: true, json: "r.json", html: "r.html", channelPrefix: "b:" },
    ],
    [
      "more workers than connections (idle ones)",
      ["--target", T, "--connections", "2", "--workers", "4"],
      {
        connections: 2,
        workers: 4,
      },
    ],
  ];
  for (const [name, argv, expected] of good) {
    it(`accepts ${name}`, () => {
      const result = parseLoadFlags(commanderFlags(loadCommand(), argv));
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(result.value, { ...LOAD_DEFAULTS, ...expected });
      // Whatever the flags accept, runLoad's own schema accepts too.
      assert.doesNotThrow(() => loadOptions.parse(result.value));
    });
  }

  const bad: Array<[string, string[], string[]]> = [
    ["no target", [], ["--target is required: one or more ws:// URLs, e.g. --target ws://127.0.0.1:8080/ws"]],
    [
      "negative connections",
      ["--connections", "-5"],
      ["--connections must be an integer between 1 and 2000000 (got -5)"],
    ],
    [
      "fractional connections",
      ["--connections", "1.5"],
      ["--connections must be an integer between 1 and 2000000 (got 1.5)"],
    ],
    [
      "word for connections",
      ["--connections", "many"],
      ['--connections must be an integer between 1 and 2000000 (got "many")'],
    ],
    [
      "empty connections",
      ["--connections", ""],
      ['--connections must be an integer between 1 and 2000000 (got "")'],
    ],
    [
      "hex connections",
      ["--connections", "0x10"],
      ['--connections must be an integer between 1 and 2000000 (got "0x10")'],
    ],
    [
      "too many connections",
      ["--connections", "2000001"],
      ["--connections must be an integer between 1 and 2000000 (got 2000001)"],
    ],
    [
      "negative ramp",
      ["--ramp-seconds", "-1"],
      ["--ramp-seconds must be a number of seconds between 0 and 3600 (got -1)"],
    ],
    [
      "endless hold",
      ["--hold-seconds", "Infinity"],
      ['--hold-seconds must be a number of seconds between 0 and 86400 (got "Infinity")'],
    ],
    ["no channels", ["--channels", "0"], ["--channels must be an integer between 1 and 100000 (got 0)"]],
    [
      "negative publish rate",
      ["--publish-rate", "-0.5"],
      ["--publish-rate must be a number between 0 and 1000000 (got -0.5)"],
    ],
    [
      "zero workers",
      ["--workers", "0"],
      ['--workers must be "auto" or an integer between 1 and 250 (got "0")'],
    ],
    [
      "word for workers",
      ["--workers", "lots"],
      ['--workers must be "auto" or an integer between 1 and 250 (got "lots")'],
    ],
    ["unknown dialect", ["--dialect", "mqtt"], ['--dialect must be one of rtgw, socketio (got "mqtt")']],
    [
      "short API key",
      ["--api-key", "short"],
      ["--api-key must be at least 8 characters (RTGW_API_KEY's rule) (got 5 characters)"],
    ],
    [
      "token that is no JWT",
      ["--token", "abc"],
      ["--token must be a JWT (header.payload.signature) (got 3 characters)"],
    ],
    [
      "empty JWT secret",
      ["--jwt-secret", ""],
      ["--jwt-secret must be a non-empty HS256 secret (the gateway's RTGW_JWT_SECRET) (got 0 characters)"],
    ],
    [
      "prefix with a space",
      ["--channel-prefix", "a b"],
      [
        '--channel-prefix must be the start of a channel name (letters, digits and _ - : . @ / =) (got "a b")',
      ],
    ],
    ["empty JSON path", ["--json", " "], ['--json must be a file path (got " ")']],
    [
      "token and secret",
      ["--token", JWT, "--jwt-secret", "s"],
      ["give --token or --jwt-secret, not both (--jwt-secret mints a token per worker)"],
    ],
    [
      "workers too few for the connections",
      ["--connections", "40000", "--workers", "2"],
      [
        '--workers 2 would hold 20000 connections each; at most 18000 fit in one process (give --workers 3 or more, or "auto")',
      ],
    ],
    [
      "Socket.IO publishing without a key",
      ["--dialect", "socketio"],
      ["--dialect socketio publishes through POST /api/publish only: give --api-key, or --publish-rate 0"],
    ],
    [
      "channel names past 200 characters",
      ["--channel-prefix", "p".repeat(199), "--channels", "100"],
      [
        `--channel-prefix "${"p".repeat(199)}" with --channels 100 makes channel names up to 201 characters; at most 200 are allowed`,
      ],
    ],
    [
      "several bad flags: each named once, in flag order (cross-flag rules wait for valid values)",
      ["--connections", "-1", "--channels", "x", "--token", JWT, "--jwt-secret", "s"],
      [
        "--connections must be an integer between 1 and 2000000 (got -1)",
        '--channels must be an integer between 1 and 100000 (got "x")',
      ],
    ],
  ];
  for (const [name, argv, errors] of bad) {
    it(`rejects ${name}`, () => {
      const withTarget = name === "no target" ? argv : ["--target", T, ...argv];
      assert.deepEqual(parseLoadFlags(commanderFlags(loadCommand(), withTarget)), { ok: false, errors });
    });
  }

  it("accepts only ws:// URLs with a path on loopback (workers dial from 127.x.y.z)", () => {
    const table: Array<[string, boolean]> = [
      ["ws://127.0.0.1:8080/ws", true],
      ["ws://127.9.8.7/ws?x=1", true],
      ["ws://localhost:8080/socket.io/", true],
      ["wss://127.0.0.1:8443/ws", false],
      ["http://127.0.0.1:8080/ws", false],
      ["ws://10.0.0.5:8080/ws", false],
      ["ws://example.com/ws", false],
      ["ws://[::1]:8080/ws", false],
      ["ws://127.0.0.1:8080", false],
      ["ws://127.0.0.1:8080/", false],
      ["ws://user@127.0.0.1:8080/ws", false],
      ["127.0.0.1:8080/ws", false],
      ["", false],
    ];
    for (const [url, ok] of table) assert.equal(isLoopbackWsUrl(url), ok, url);
    assert.deepEqual(parseLoadFlags(commanderFlags(loadCommand(), ["--target", `${T},wss://127.0.0.1/ws`])), {
      ok: false,
      errors: [
        '--target must be a ws:// URL with a path on a loopback host (127.x.y.z or localhost), e.g. ws://127.0.0.1:8080/ws (got "wss://127.0.0.1/ws")',
      ],
    });
  });
});

describe("rtgw bench flags", () => {
  it("names the same systems and scenarios as the harness", () => {
    assert.deepEqual([...BENCH_SCENARIOS], [...SCENARIOS]);
    assert.deepEqual([...BENCH_SYSTEMS], [...SYSTEMS]);
    assert.deepEqual([...BENCH_SYSTEMS].sort(), ["rtgw", "socketio", "soketi", "uws"]);
  });

  const defaults = {
    quick: false,
    systems: ["rtgw", "socketio", "uws", "soketi"],
    json: "loadtest/results/bench.json",
    readme: "README.md",
  };
  const good: Array<[string, string[], object]> = [
    ["defaults", [], defaults],
    [
      "a partial quick run",
      ["--quick", "--systems", "uws, rtgw", "--scenarios", "fanout,latency", "--json", "b.json"],
      {
        ...defaults,
        quick: true,
        systems: ["uws", "rtgw"],
        scenarios: ["fanout", "latency"],
        json: "b.json",
      },
    ],
    [
      "Soketi beside ours on the new scenarios",
      ["--quick", "--systems", "rtgw,soketi", "--scenarios", "connect,relay,publish"],
      { ...defaults, quick: true, systems: ["rtgw", "soketi"], scenarios: ["connect", "relay", "publish"] },
    ],
  ];
  for (const [name, argv, expected] of good) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(parseBenchFlags(commanderFlags(benchCommand(), argv)), { ok: true, value: expected });
    });
  }
  const bad: Array<[string, string[], string[]]> = [
    [
      "an unknown system",
      ["--systems", "rtgw,nats"],
      [
        '--systems must be a comma-separated list of distinct values from rtgw, socketio, uws, soketi (got "rtgw,nats")',
      ],
    ],
    [
      "no system",
      ["--systems", ""],
      [
        '--systems must be a comma-separated list of distinct values from rtgw, socketio, uws, soketi (got "")',
      ],
    ],
    [
      "a repeated scenario",
      ["--scenarios", "memory,memory"],
      [
        '--scenarios must be a comma-separated list of distinct values from memory, fanout, latency, cross, connect, relay, publish (got "memory,memory")',
      ],
    ],
    [
      "an unknown scenario",
      ["--scenarios", "connect,throughput"],
      [
        '--scenarios must be a comma-separated list of distinct values from memory, fanout, latency, cross, connect, relay, publish (got "connect,throughput")',
      ],
    ],
    ["an empty results path", ["--json", ""], ['--json must be a file path (got "")']],
  ];
  for (const [name, argv, errors] of bad) {
    it(`rejects ${name}`, () => {
      assert.deepEqual(parseBenchFlags(commanderFlags(benchCommand(), argv)), { ok: false, errors });
    });
  }
});

describe("rtgw bench box flags", () => {
  // Issue 14's scenario: 500,000 connections, 27 gateways (18,519 each), 28 workers (17,858 each), 200 s at
  // 2,500 connects/s, 100 channels × 5,000 subscribers at 22 msg/s = 110,000 deliveries/s.
  const defaults = {
    connections: 500_000,
    gateways: 27,
    workers: 28,
    rampSeconds: 200,
    holdSeconds: 60,
    channels: 100,
    publishRate: 22,
    json: "loadtest/results/box.json",
    html: "loadtest/results/box.html",
    readme: undefined,
  };
  const here = { gatewayCapacity: 19_936 };
  const good: Array<[string, string[], { gatewayCapacity: number | undefined }, object]> = [
    ["defaults (make box)", [], here, defaults],
    [
      '"auto" workers become a count',
      ["--connections", "40000", "--workers", "auto", "--gateways", "3", "--update-readme", "README.md"],
      here,
      { ...defaults, connections: 40_000, workers: 3, gateways: 3, rampSeconds: 16, readme: "README.md" },
    ],
    [
      "a smaller --connections alone scales the processes and the ramp (same channels and rate per subscriber)",
      ["--connections", "40000"],
      here,
      { ...defaults, connections: 40_000, gateways: 3, workers: 3, rampSeconds: 16 },
    ],
    [
      "given flags win over the plan",
      [
        "--connections",
        "40000",
        "--gateways",
        "4",
        "--workers",
        "5",
        "--ramp-seconds",
        "30",
        "--publish-rate",
        "40",
      ],
      here,
      { ...defaults, connections: 40_000, gateways: 4, workers: 5, rampSeconds: 30, publishRate: 40 },
    ],
    [
      "a results file elsewhere takes its HTML report along",
      ["--out", "/tmp/run/box.json"],
      here,
      { ...defaults, json: "/tmp/run/box.json", html: "/tmp/run/box.html" },
    ],
    [
      "a report named apart",
      ["--out", "/tmp/run/box.json", "--report", "/tmp/box-page.html"],
      here,
      { ...defaults, json: "/tmp/run/box.json", html: "/tmp/box-page.html" },
    ],
    [
      "an unknown open-file limit skips the gateway check",
      ["--gateways", "1"],
      { gatewayCapacity: undefined },
      {
        ...defaults,
        gateways: 1,
      },
    ],
  ];
  for (const [name, argv, context, expected] of good) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(parseBoxFlags(commanderFlags(boxCommand(), argv), context), {
        ok: true,
        value: expected,
      });
    });
  }
  const bad: Array<[string, string[], string[]]> = [
    ["no gateways", ["--gateways", "0"], ["--gateways must be an integer between 1 and 64 (got 0)"]],
    [
      "a results file that is not .json",
      ["--out", "box.txt"],
      ['--out must be a file path ending in .json (got "box.txt")'],
    ],
    [
      "too few gateways for the connections",
      ["--gateways", "5"],
      [
        "--gateways 5 would hold 100000 connections each; one gateway holds at most 19936 here (its open-file limit): give --gateways 26 or more",
      ],
    ],
    [
      "too few workers",
      ["--workers", "5"],
      [
        '--workers 5 would hold 100000 connections each; at most 18000 fit in one process (give --workers 28 or more, or "auto")',
      ],
    ],
    [
      "more connections than 64 gateways hold",
      ["--connections", "1300000"],
      ["--connections 1300000 needs 69 gateways at 19000 each; at most 64 run on this machine"],
    ],
    [
      "a negative publish rate",
      ["--publish-rate", "-1"],
      ["--publish-rate must be a number between 0 and 1000000 (got -1)"],
    ],
  ];
  for (const [name, argv, errors] of bad) {
    it(`rejects ${name}`, () => {
      assert.deepEqual(parseBoxFlags(commanderFlags(boxCommand(), argv), here), { ok: false, errors });
    });
  }
});
