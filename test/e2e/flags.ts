// `make e2e` flags (test/e2e/main.ts): node's parseArgs splits argv, zod checks the values; an unknown
// flag or a bad value comes back as sentences naming the flag, which main prints before exiting 2.
import { parseArgs } from "node:util";
import { z } from "zod";
import { type Parsed, parseFlags } from "../../config/parse.js";
import { mustBe, text } from "../../config/rules.js";
import { SCENARIOS, type Scenario } from "./scenario.js";

export interface E2eOptions {
  scenario: Scenario;
  /** Where e2e.json and e2e.html go. */
  out: string;
  /** Where pod and operator logs go. */
  logs: string;
}

const e2eFlagsSchema = z.object({
  scenario: z.string().transform((name, ctx): Scenario => {
    const scenario = Object.hasOwn(SCENARIOS, name) ? SCENARIOS[name] : undefined;
    if (scenario) return scenario;
    ctx.addIssue({
      code: "custom",
      message: mustBe(`one of ${Object.keys(SCENARIOS).join(", ")}`)({ input: name }),
    });
    return z.NEVER;
  }),
  out: text("a directory path"),
  logs: text("a directory path"),
});

/** `argv` without the node and script paths. */
export function parseE2eFlags(argv: string[]): Parsed<E2eOptions> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: "string", default: "full" },
        out: { type: "string", default: "loadtest/results" },
        logs: { type: "string", default: ".cache/e2e-logs" },
      },
    }));
  } catch (error) {
    // parseArgs' own message names the flag: "Unknown option '--x'", "Option '--out <value>' argument missing".
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
  return parseFlags(e2eFlagsSchema, values);
}
