// The script's exported `options`, parsed strictly: every key k6 would accept but this runtime does not run is
// refused by name (a misspelt or unsupported option must not be dropped silently, as k6 would only warn).
import { z } from "zod";
import { InvalidConfig } from "./unsupported.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** k6 durations: "1h2m3s", "500ms", "1.5s", or a number of milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new InvalidConfig(`invalid duration ${value}`);
    return value;
  }
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (value === "" || parts.map((p) => p[0]).join("") !== value) {
    throw new InvalidConfig(`invalid duration "${value}" (use e.g. "90s", "1m30s", "500ms")`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] as string] ?? 0), 0);
}

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});
const count = z.number().int().nonnegative();
const positive = z.number().int().positive();

/** Options every executor shares (k6 also has `env`, `tags` and `options`: refused here). */
const common = {
  startTime: duration.default(0),
  gracefulStop: duration.default(30_000),
  exec: z.string().min(1).default("default"),
};

const perVuIterations = z.strictObject({
  executor: z.literal("per-vu-iterations"),
  ...common,
  vus: positive.default(1),
  iterations: positive.default(1),
  maxDuration: duration.default(600_000),
});
const sharedIterations = z.strictObject({
  executor: z.literal("shared-iterations"),
  ...common,
  vus: positive.default(1),
  iterations: positive.default(1),
  maxDuration: duration.default(600_000),
});
const constantArrivalRate = z.strictObject({
  executor: z.literal("constant-arrival-rate"),
  ...common,
  rate: positive,
  timeUnit: duration.default(1000),
  duration: duration.refine((ms) => ms > 0, "duration must be more than 0"),
  preAllocatedVUs: positive,
  maxVUs: positive.optional(),
});
const rampingVus = z.strictObject({
  executor: z.literal("ramping-vus"),
  ...common,
  startVUs: count.default(1),
  stages: z.array(z.strictObject({ duration, target: count })).min(1),
  gracefulRampDown: duration.default(30_000),
});

const executorNames = [
  "per-vu-iterations",
  "shared-iterations",
  "constant-arrival-rate",
  "ramping-vus",
] as const;
export const scenarioSchema = z.discriminatedUnion("executor", [
  perVuIterations,
  sharedIterations,
  constantArrivalRate,
  rampingVus,
]);
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioOf<E extends Scenario["executor"]> = Extract<Scenario, { executor: E }>;

const optionsSchema = z.strictObject({
  scenarios: z.record(z.string().regex(/^[a-zA-Z0-9_-]+$/), z.unknown()),
  thresholds: z.record(z.string(), z.array(z.unknown())).default({}),
});

export interface TestOptions {
  scenarios: Record<string, Scenario>;
  /** metric name → threshold expressions (strings only: k6's object form with abortOnFail is refused). */
  thresholds: Record<string, string[]>;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** Parse `options` as exported by the script; InvalidConfig naming what is wrong or unsupported. */
export function parseOptions(raw: unknown): TestOptions {
  if (raw === undefined) throw new InvalidConfig("the script exports no options.scenarios (required here)");
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidConfig(`options: ${issues(parsed.error)}`);
  const scenarios: Record<string, Scenario> = {};
  for (const [name, value] of Object.entries(parsed.data.scenarios)) {
    const executor = (value as { executor?: unknown } | null)?.executor;
    if (!executorNames.includes(executor as (typeof executorNames)[number])) {
      throw new InvalidConfig(
        `options.scenarios.${name}: executor ${JSON.stringify(executor)} is not supported by the test-support k6 runtime (supported: ${executorNames.join(", ")})`,
      );
    }
    const scenario = scenarioSchema.safeParse(value);
    if (!scenario.success) throw new InvalidConfig(`options.scenarios.${name}: ${issues(scenario.error)}`);
    scenarios[name] = scenario.data;
  }
  if (Object.keys(scenarios).length === 0) throw new InvalidConfig("options.scenarios is empty");
  const thresholds: Record<string, string[]> = {};
  for (const [metric, list] of Object.entries(parsed.data.thresholds)) {
    thresholds[metric] = list.map((t) => {
      if (typeof t !== "string") {
        throw new InvalidConfig(
          `options.thresholds.${metric}: only string expressions are supported by the test-support k6 runtime (not ${JSON.stringify(t)})`,
        );
      }
      return t;
    });
  }
  return { scenarios, thresholds };
}
