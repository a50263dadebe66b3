// Run a k6 script through this runtime in a child process, as `k6 run` would be run, for a test:
//   const run = await runK6("loadtest/k6/connect-hold.js", { TARGET: gw.wsUrl, TOTAL_CONNECTIONS: "200" });
//   run.code (0 / 99 / 104 / 107), run.summary.metrics.checks.values.rate, run.output
// The child needs --experimental-vm-modules (a node:vm realm per VU); it is killed at `timeoutMs`.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SummaryJson } from "./summary.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface K6Run {
  code: number;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  /** Undefined when the run ended before a summary (bad options, script error, unsupported feature). */
  summary: SummaryJson | undefined;
}

export async function runK6(
  script: string,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<K6Run> {
  const dir = mkdtempSync(path.join(tmpdir(), "rtgw-k6-"));
  const summaryFile = path.join(dir, "summary.json");
  const args = [
    "--experimental-vm-modules",
    "--disable-warning=ExperimentalWarning",
    "--import",
    "tsx",
    path.join(ROOT, "test-support/k6/cli.ts"),
    "run",
    ...Object.entries(env).flatMap(([name, value]) => ["-e", `${name}=${value}`]),
    "--summary-json",
    summaryFile,
    path.resolve(ROOT, script),
  ];
  // A clean environment: __ENV holds the process's (as in k6), and the test's own must not leak into the run.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 137)));
  clearTimeout(timer);
  process.off("exit", kill);
  let summary: SummaryJson | undefined;
  try {
    summary = JSON.parse(readFileSync(summaryFile, "utf8")) as SummaryJson;
  } catch {
    summary = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, output, summary };
}
