// `rtgw bench` flags: commander's option values → runBench's options, or sentences naming each bad flag.
import { z } from "zod";
import { type Parsed, parseFlags } from "../config/parse.js";
import { boolean, list, text } from "../config/rules.js";
import type { SystemName } from "../loadtest/src/bench/processes.js";
import type { BenchOptions, Scenario } from "../loadtest/src/bench/run-bench.js";

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
    quick: boolean().default(false),
    systems: list(BENCH_SYSTEMS),
    scenarios: list(BENCH_SCENARIOS).optional(),
    json: text("a file path"),
    readme: text("a file path"),
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
export function parseBenchFlags(raw: Record<string, unknown>): Parsed<BenchOptions> {
  return parseFlags(benchFlagsSchema, raw);
}
