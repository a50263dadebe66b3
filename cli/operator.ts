// `rtgw operator` and `rtgw crd`. Commander reads the flags (or their RTGW_* variables) and writes the help;
// the shared rules (config/) check them and the autoscaler's variables (exit 2 naming each flag or variable)
// before the operator is even imported.
import { Command, Option } from "commander";
import { z } from "zod";
import { allOf, optionNames, orExit, type Parsed, parseFlags } from "../config/parse.js";
import { boolean, choice, integer, number, port, text } from "../config/rules.js";
import { crdYaml } from "../operator/src/api/crd.js";
import {
  autoscalingVariables,
  parseAutoscalingSettings,
} from "../operator/src/controllers/autoscaling/settings.js";

// Kubernetes names: a namespace is a DNS-1123 label, a Lease name a DNS-1123 subdomain.
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_RULE = "a namespace name (DNS-1123 label: 1-63 of a-z, 0-9, -)";

export const operatorFlagsSchema = z.object({
  namespace: text(LABEL_RULE, DNS_LABEL).optional(),
  leaderElect: boolean().default(false),
  leaseName: text("a Lease name (DNS-1123 subdomain: a-z, 0-9, - and ., at most 253)", DNS_SUBDOMAIN),
  leaseNamespace: text(LABEL_RULE, DNS_LABEL).optional(),
  logLevel: choice(["trace", "debug", "info", "warn", "error"]),
  metricsPort: port(),
  queueQps: number({ min: 0.01, max: 10_000 }),
  queueBurst: integer(1, 100_000),
  // Read by the operator from the environment (the chart sets them from the downward API): checked here too.
  podName: text("a pod name (DNS-1123 subdomain)", DNS_SUBDOMAIN).optional(),
  podNamespace: text(LABEL_RULE, DNS_LABEL).optional(),
});
export type OperatorFlags = z.output<typeof operatorFlagsSchema>;

/** Commander's option values plus POD_NAME / POD_NAMESPACE; an empty variable counts as unset. */
export function parseOperatorFlags(
  raw: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Parsed<OperatorFlags> {
  const input: Record<string, unknown> = { podName: env.POD_NAME, podNamespace: env.POD_NAMESPACE, ...raw };
  for (const [key, value] of Object.entries(input))
    if (value === "" || value === undefined) delete input[key];
  return parseFlags(operatorFlagsSchema, input, OPERATOR_NAMES);
}

export function operatorCommand(): Command {
  return (
    new Command("operator")
      .description("run the RealtimeGateway operator (in-cluster, or against KUBECONFIG)")
      .addHelpText(
        "after",
        `\nThe autoscaler's tunables come from the environment only (see the README, autoscaling):\n  ${Object.keys(autoscalingVariables.shape).join("\n  ")}`,
      )
      .addOption(
        new Option("--namespace <ns>", "watch only this namespace (default: all)").env(
          "RTGW_OPERATOR_NAMESPACE",
        ),
      )
      // An optional value, not a bare switch: commander turns a switch's variable on whatever it holds, so
      // RTGW_LEADER_ELECT=false would elect. With a value the schema reads true/false/1/0.
      .addOption(
        new Option("--leader-elect [enabled]", "elect a leader through a Lease (true, false, 1 or 0)")
          .env("RTGW_LEADER_ELECT")
          .default(false),
      )
      .addOption(
        new Option("--lease-name <name>", "Lease name")
          .env("RTGW_LEASE_NAME")
          .default("rtgw-operator-leader"),
      )
      .addOption(
        new Option("--lease-namespace <ns>", "Lease namespace (default: the pod's or 'default')").env(
          "RTGW_LEASE_NAMESPACE",
        ),
      )
      .addOption(
        new Option("--log-level <level>", "log level: trace, debug, info, warn or error")
          .env("RTGW_LOG_LEVEL")
          .default("info"),
      )
      .addOption(
        new Option("--metrics-port <port>", "port of /healthz, /readyz and /metrics (0: any free port)")
          .env("RTGW_OPERATOR_METRICS_PORT")
          .default("8081"),
      )
      .addOption(
        new Option("--queue-qps <n>", "overall rate of reconcile retries (token bucket, per second)")
          .env("RTGW_OPERATOR_QUEUE_QPS")
          .default("10"),
      )
      .addOption(
        new Option("--queue-burst <n>", "retries allowed at once before --queue-qps applies")
          .env("RTGW_OPERATOR_QUEUE_BURST")
          .default("100"),
      )
      .action(async (flags: Record<string, unknown>) => {
        const { operator, autoscaling } = orExit(
          "rtgw operator",
          allOf({
            operator: parseOperatorFlags(flags, process.env),
            autoscaling: parseAutoscalingSettings(process.env),
          }),
        );
        // Only now the operator itself (the Kubernetes client and all): a bad setting never got this far.
        const { runOperatorFromCli } = await import("../operator/src/main.js");
        await runOperatorFromCli(operator, autoscaling);
      })
  );
}

/** Each setting as errors name it: the flag and its variable, or the variable alone. */
const OPERATOR_NAMES = {
  ...optionNames(operatorCommand().options),
  podName: "POD_NAME",
  podNamespace: "POD_NAMESPACE",
};

export function crdCommand(): Command {
  return new Command("crd")
    .description("print the RealtimeGateway CustomResourceDefinition (YAML)")
    .action(() => {
      process.stdout.write(crdYaml());
    });
}
