// `rtgw bench` flags: commander's option values → runBench's options, or sentences naming each bad flag.
import { z } from "zod";
import { booleanFlag, type FlagResult, listFlag, parseFlags, textFlag } from "../../src/flags.js";
import type { SystemName } from "./bench/processes.js";
import type { BenchOptions, Scenario } from "./bench/run-bench.js";

// The names run-bench.ts and processes.ts act on; kept here so `rtgw --help` need not load the harness
// (a unit test keeps the two lists equal).
export const BENCH_SYSTEMS = ["rtgw", "socketio", "uws", "soketi"] as const satisfies readonly SystemName[];
export const BENCH_SCENARIOS = [
  "memory",
  "fanout",
  "latency",
  "cross",
  "connect",
  "relay",
  "publish",
] as const satisfies readonly Scenario[];

const benchFlagsSchema = z
  .object({
    quick: booleanFlag("--quick").default(false),
    systems: listFlag("--systems", BENCH_SYSTEMS),
    scenarios: listFlag("--scenarios", BENCH_SCENARIOS).optional(),
    json: textFlag("--json", "a file path"),
    readme: textFlag("--readme", "a file path"),
  })
  .transform(
    (f): BenchOptions => ({
      quick: f.quick,
      systems: f.systems,
      ...(f.scenarios ? { scenarios: f.scenarios } : {}),
      json: f.json,
      readme: f.readme,
    }),
  );

/** Commander's option values for `rtgw bench`. */
export function parseBenchFlags(raw: Record<string, unknown>): FlagResult<BenchOptions> {
  return parseFlags(benchFlagsSchema, raw);
}
