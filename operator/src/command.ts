import { Command, Option } from "commander";
import { crdYaml } from "./api/crd.js";

export function operatorCommand(): Command {
  return new Command("operator")
    .description("run the RealtimeGateway operator (in-cluster, or against KUBECONFIG)")
    .addOption(
      new Option("--namespace <ns>", "watch only this namespace (default: all)").env(
        "RTGW_OPERATOR_NAMESPACE",
      ),
    )
    .addOption(
      new Option("--leader-elect", "elect a leader through a Lease").env("RTGW_LEADER_ELECT").default(false),
    )
    .addOption(
      new Option("--lease-name <name>", "Lease name").env("RTGW_LEASE_NAME").default("rtgw-operator-leader"),
    )
    .addOption(
      new Option("--lease-namespace <ns>", "Lease namespace (default: the pod's or 'default')").env(
        "RTGW_LEASE_NAMESPACE",
      ),
    )
    .addOption(
      new Option("--log-level <level>", "log level")
        .env("RTGW_LOG_LEVEL")
        .choices(["trace", "debug", "info", "warn", "error"])
        .default("info"),
    )
    .addOption(
      new Option("--metrics-port <port>", "port of /healthz, /readyz and /metrics")
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
    .action(async (opts: Record<string, unknown>) => {
      const { runOperatorFromCli } = await import("./main.js");
      await runOperatorFromCli(opts);
    });
}

export function crdCommand(): Command {
  return new Command("crd")
    .description("print the RealtimeGateway CustomResourceDefinition (YAML)")
    .action(() => {
      process.stdout.write(crdYaml());
    });
}
