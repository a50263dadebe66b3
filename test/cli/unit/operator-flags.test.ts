// `rtgw operator` flags and their RTGW_* variables: argv (and env) through the real commander command, then the
// zod schema; each row is the config the operator gets or the exact error sentences.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { operatorCommand, parseOperatorFlags } from "../../../cli/operator.js";

const VARIABLES = [
  "RTGW_OPERATOR_NAMESPACE",
  "RTGW_LEADER_ELECT",
  "RTGW_LEASE_NAME",
  "RTGW_LEASE_NAMESPACE",
  "RTGW_LOG_LEVEL",
  "RTGW_OPERATOR_METRICS_PORT",
  "RTGW_OPERATOR_QUEUE_QPS",
  "RTGW_OPERATOR_QUEUE_BURST",
  "POD_NAME",
  "POD_NAMESPACE",
];
const saved = new Map(VARIABLES.map((v) => [v, process.env[v]]));
const restore = () => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
};
before(() => {
  for (const v of VARIABLES) delete process.env[v];
});
after(restore);

/** Commander reads the variables from process.env; set them for one parse only. */
function parse(argv: string[], env: Record<string, string> = {}) {
  Object.assign(process.env, env);
  try {
    const command = operatorCommand()
      .exitOverride()
      .action(() => {});
    command.parse(argv, { from: "user" });
    return parseOperatorFlags(command.opts(), env);
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

const DEFAULTS = {
  leaderElect: false,
  leaseName: "rtgw-operator-leader",
  logLevel: "info",
  metricsPort: 8081,
  queueQps: 10,
  queueBurst: 100,
};

describe("rtgw operator flags", () => {
  const good: Array<[string, string[], Record<string, string>, object]> = [
    ["defaults", [], {}, DEFAULTS],
    [
      "the chart's arguments",
      [
        ...["--metrics-port=8081", "--log-level=info", "--namespace=rtgw-system", "--leader-elect"],
        ...["--lease-name=rtgw-operator", "--lease-namespace=rtgw-system"],
      ],
      { POD_NAME: "rtgw-operator-7d9f-abcde", POD_NAMESPACE: "rtgw-system" },
      {
        ...DEFAULTS,
        namespace: "rtgw-system",
        leaderElect: true,
        leaseName: "rtgw-operator",
        leaseNamespace: "rtgw-system",
        podName: "rtgw-operator-7d9f-abcde",
        podNamespace: "rtgw-system",
      },
    ],
    [
      "any free metrics port",
      ["--metrics-port", "0", "--log-level", "warn"],
      {},
      {
        ...DEFAULTS,
        metricsPort: 0,
        logLevel: "warn",
      },
    ],
    ["RTGW_LEADER_ELECT=false (no election)", [], { RTGW_LEADER_ELECT: "false" }, DEFAULTS],
    ["RTGW_LEADER_ELECT=1 (election)", [], { RTGW_LEADER_ELECT: "1" }, { ...DEFAULTS, leaderElect: true }],
    ["--leader-elect=false", ["--leader-elect=false"], {}, DEFAULTS],
    [
      "variables instead of flags",
      [],
      {
        RTGW_OPERATOR_NAMESPACE: "team-a",
        RTGW_OPERATOR_METRICS_PORT: "9100",
        RTGW_OPERATOR_QUEUE_QPS: "2.5",
      },
      { ...DEFAULTS, namespace: "team-a", metricsPort: 9100, queueQps: 2.5 },
    ],
    ["an empty variable as unset", [], { RTGW_OPERATOR_NAMESPACE: "", POD_NAMESPACE: "" }, DEFAULTS],
  ];
  for (const [name, argv, env, expected] of good) {
    it(`accepts ${name}`, () => {
      const result = parse(argv, env);
      // What it produces is the operator's OperatorConfig: cli/operator.ts hands it over, the compiler checks it.
      assert.deepEqual(result, { ok: true, value: expected });
    });
  }

  const bad: Array<[string, string[], Record<string, string>, string[]]> = [
    [
      "a namespace with capitals",
      ["--namespace", "Team"],
      {},
      [
        '--namespace (RTGW_OPERATOR_NAMESPACE) must be a namespace name (DNS-1123 label: 1-63 of a-z, 0-9, -) (got "Team")',
      ],
    ],
    [
      "a Lease name with an underscore",
      ["--lease-name", "rtgw_leader"],
      {},
      [
        '--lease-name (RTGW_LEASE_NAME) must be a Lease name (DNS-1123 subdomain: a-z, 0-9, - and ., at most 253) (got "rtgw_leader")',
      ],
    ],
    [
      "RTGW_LEADER_ELECT=yes",
      [],
      { RTGW_LEADER_ELECT: "yes" },
      ['--leader-elect (RTGW_LEADER_ELECT) must be true, false, 1 or 0 (got "yes")'],
    ],
    [
      "an unknown log level",
      ["--log-level", "verbose"],
      {},
      ['--log-level (RTGW_LOG_LEVEL) must be one of trace, debug, info, warn, error (got "verbose")'],
    ],
    [
      "a port past 65535",
      ["--metrics-port", "70000"],
      {},
      ["--metrics-port (RTGW_OPERATOR_METRICS_PORT) must be an integer port between 0 and 65535 (got 70000)"],
    ],
    [
      "a port from the environment that is no number",
      [],
      { RTGW_OPERATOR_METRICS_PORT: "http" },
      [
        '--metrics-port (RTGW_OPERATOR_METRICS_PORT) must be an integer port between 0 and 65535 (got "http")',
      ],
    ],
    [
      "a zero retry rate",
      ["--queue-qps", "0"],
      {},
      ["--queue-qps (RTGW_OPERATOR_QUEUE_QPS) must be a number between 0.01 and 10000 (got 0)"],
    ],
    [
      "a fractional burst",
      ["--queue-burst", "2.5"],
      {},
      ["--queue-burst (RTGW_OPERATOR_QUEUE_BURST) must be an integer between 1 and 100000 (got 2.5)"],
    ],
    [
      "a bad POD_NAMESPACE",
      [],
      { POD_NAMESPACE: "Kube_System" },
      ['POD_NAMESPACE must be a namespace name (DNS-1123 label: 1-63 of a-z, 0-9, -) (got "Kube_System")'],
    ],
  ];
  for (const [name, argv, env, errors] of bad) {
    it(`rejects ${name}`, () => {
      assert.deepEqual(parse(argv, env), { ok: false, errors });
    });
  }
});
