// `make e2e` (and `rtgw`-less direct use): node --import tsx loadtest/src/e2e/main.ts [--scenario full|small]
//   [--out DIR]. Writes DIR/e2e.json and DIR/e2e.html (default loadtest/results); exits 1 when a check fails.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderHtml, summarize, verdict } from "./report.js";
import { runScenario } from "./run.js";
import { SCENARIOS } from "./scenario.js";

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "full" },
    out: { type: "string", default: "loadtest/results" },
    logs: { type: "string", default: ".cache/e2e-logs" },
  },
});
const scenario = SCENARIOS[values.scenario];
if (!scenario) {
  console.error(`unknown scenario ${values.scenario}; one of ${Object.keys(SCENARIOS).join(", ")}`);
  process.exit(2);
}
// Ctrl-C or a timeout's SIGTERM: exit through the 'exit' handlers, which kill every process this run started.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
const started = Date.now();
const facts = await runScenario(scenario, { logDir: values.logs });
const summary = summarize(facts);
const failures = verdict(summary, scenario.peak);
mkdirSync(values.out, { recursive: true });
writeFileSync(
  join(values.out, "e2e.json"),
  `${JSON.stringify({ ...summary, pass: failures.length === 0, failures, timeline: facts.samples }, null, 1)}\n`,
);
writeFileSync(join(values.out, "e2e.html"), renderHtml(facts, summary));
const { scalingEvents: _e, scaleDowns, phases: _p, ...figures } = summary;
console.log(JSON.stringify({ ...figures, scaleDowns }, null, 2));
console.log(
  `e2e ${scenario.name}: ${failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`} in ${Math.round((Date.now() - started) / 1000)} s`,
);
console.log(`wrote ${join(values.out, "e2e.json")} and ${join(values.out, "e2e.html")}`);
process.exit(failures.length === 0 ? 0 : 1);
