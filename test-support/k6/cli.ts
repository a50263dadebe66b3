// `k6 run` for tests, where k6 itself cannot be installed (test-support, never shipped):
//   node --experimental-vm-modules --import tsx test-support/k6/cli.ts run [-e NAME=VALUE]... [--summary-json FILE] script.js
// Exit codes are k6's: 0 passed, 99 a threshold failed, 104 invalid options/thresholds, 107 a script error or
// a feature this runtime does not support; 2 for a bad command line. See test-support/k6/README in the README.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runTest } from "./run.js";
import { summaryJson, summaryText } from "./summary.js";
import { EXIT, InvalidConfig } from "./unsupported.js";

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: cli.ts run [-e NAME=VALUE]... [--summary-json FILE] script.js\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { env: { type: "string", short: "e", multiple: true }, "summary-json": { type: "string" } },
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const [command, script, ...rest] = parsed.positionals;
  if (command !== "run" || !script || rest.length > 0) usage("expected: run <script.js>");
  // As `k6 run` (--include-system-env-vars defaults to true there): __ENV holds the process environment, which
  // is how the k6-operator's runner.env reaches the scripts; -e overrides it.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  for (const pair of (parsed.values.env as string[] | undefined) ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) usage(`-e ${pair}: expected NAME=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  try {
    const result = await runTest({ scriptPath: script, env, console });
    process.stdout.write(`${summaryText(result)}\n`);
    const out = parsed.values["summary-json"];
    if (typeof out === "string") writeFileSync(out, `${JSON.stringify(summaryJson(result), null, 2)}\n`);
    return result.thresholdsFailed ? EXIT.thresholdsFailed : EXIT.ok;
  } catch (err) {
    process.stderr.write(`ERRO ${(err as Error).stack ?? String(err)}\n`);
    return err instanceof InvalidConfig ? EXIT.invalidConfig : EXIT.scriptException;
  }
}

process.exitCode = await main();
// Sockets of interrupted iterations or a stuck worker must not keep the process alive.
setTimeout(() => process.exit(), 200).unref();
