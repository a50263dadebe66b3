// `make e2e` (and `rtgw`-less direct use): node --import tsx test/e2e/main.ts [--scenario full|small]
//   [--out DIR]. Writes DIR/e2e.json and DIR/e2e.html (default loadtest/results); exits 1 when a check fails.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { orExit } from "../../config/parse.js";
import { parseE2eFlags } from "./flags.js";
import { renderHtml, summarize, verdict } from "./report.js";
import { runScenario } from "./run.js";

const { scenario, out, logs } = orExit(
  "e2e",
  parseE2eFlags(process.argv.slice(2)),
  "flags: --scenario full|small, --out DIR, --logs DIR",
);
// Ctrl-C or a timeout's SIGTERM: exit through the 'exit' handlers, which kill every process this run started.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
const started = Date.now();
const facts = await runScenario(scenario, { logDir: logs });
const summary = summarize(facts);
const failures = verdict(summary, scenario.peak);
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, "e2e.json"),
  `${JSON.stringify({ ...summary, pass: failures.length === 0, failures, timeline: facts.samples }, null, 1)}\n`,
);
writeFileSync(join(out, "e2e.html"), renderHtml(facts, summary));
const { scalingEvents: _e, scaleDowns, phases: _p, ...figures } = summary;
console.log(JSON.stringify({ ...figures, scaleDowns }, null, 2));
console.log(
  `e2e ${scenario.name}: ${failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`} in ${Math.round((Date.now() - started) / 1000)} s`,
);
console.log(`wrote ${join(out, "e2e.json")} and ${join(out, "e2e.html")}`);
process.exit(failures.length === 0 ? 0 : 1);
