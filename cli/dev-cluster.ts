// `rtgw dev-cluster`: a local cluster for anyone without Docker (cluster.ts), driven with a stock kubectl. Prints
// `export KUBECONFIG=<path>`, `example <path>` and, as Services appear, `service <ns>/<name> <url>`; runs until
// SIGINT/SIGTERM, then stops every process it started.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { z } from "zod";
import { orExit, parseFlags } from "../config/parse.js";
import { text } from "../config/rules.js";

/** The checkout this runs from (source through tsx, or dist/): the nearest folder up holding the chart. */
export function checkoutRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "charts/realtime-gateway/Chart.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error("rtgw dev-cluster runs from a checkout (charts/ not found)");
  }
}

const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const flagsSchema = z.object({
  dir: text("a directory path", /^.+$/).optional(),
  namespace: text("a namespace name (DNS-1123 label)", DNS_LABEL),
});

export function devClusterCommand(): Command {
  return new Command("dev-cluster")
    .description(
      "a local cluster without Docker: API server, operator, simulated pods, Redis (Ctrl-C stops it)",
    )
    .addOption(
      new Option("--dir <path>", "kubeconfig and logs (default: .cache/dev-cluster in the checkout)"),
    )
    .addOption(
      new Option("--namespace <ns>", "the namespace the chart is installed in").default("rtgw-system"),
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = orExit("rtgw dev-cluster", parseFlags(flagsSchema, raw));
      await runDevCluster(flags);
    });
}

async function runDevCluster(flags: z.output<typeof flagsSchema>): Promise<void> {
  const t0 = Date.now();
  const rootDir = checkoutRoot();
  const workDir = resolve(flags.dir ?? join(rootDir, ".cache/dev-cluster"));
  mkdirSync(workDir, { recursive: true });
  // A closed terminal or pipe (EPIPE) must not crash the cluster before it stops what it started.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => process.stderr.write(`dev-cluster: ${line}\n`);
  // Imported on use: the other subcommands do not load the API server.
  const { startCluster } = await import("../dev-cluster/cluster.js");
  const cluster = await startCluster({
    rootDir,
    workDir,
    releaseNamespace: flags.namespace,
    serviceProxies: true,
    onService: (ns, name, url) => say(`service ${ns}/${name} ${url}`),
    onPodEvent: (ns, e) => {
      if (e.kind === "deleting") note(`${ns}/${e.pod}: ${e.reason}, draining`);
      else if (e.kind === "exited") note(`${ns}/${e.pod}: exited (code ${e.code}, signal ${e.signal})`);
      else note(`${ns}/${e.pod}: ${e.kind}`);
    },
  }).catch((err: Error) => {
    note(err.message);
    process.exit(1);
  });
  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    note(`${why}: stopping`);
    // Bounded: a stuck shutdown does not keep the terminal (the exit handlers SIGKILL what is left).
    const hard = setTimeout(() => process.exit(code || 1), 60_000);
    await cluster.stop();
    clearTimeout(hard);
    note("stopped");
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown("SIGINT", 0));
  process.once("SIGTERM", () => void shutdown("SIGTERM", 0));
  cluster.operator.once("exit", (code, signal) => {
    if (!stopping)
      void shutdown(`the operator exited (code ${code}, signal ${signal}; ${cluster.operatorLog})`, 1);
  });
  say(`export KUBECONFIG=${cluster.kubeconfig}`);
  say(`example ${join(rootDir, "dev-cluster/example.yaml")}`);
  note(
    `up in ${Date.now() - t0} ms (API server ${cluster.api.url}, Redis ${cluster.redis.url}, logs ${cluster.logDir})`,
  );
}
