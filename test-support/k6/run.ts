// One `k6 run`: read options from an init-only VU, check the thresholds against the declared metrics, initialize
// every scenario's VUs, run the scenarios on their start times, then evaluate thresholds over the whole run.
import { RunContext, UNMEASURED } from "./context.js";
import { initialVus, runScenario } from "./executors.js";
import { SyncHttp } from "./http-client.js";
import { metricValues } from "./metrics.js";
import { parseOptions, type TestOptions } from "./options.js";
import {
  checkAggregation,
  evaluateThreshold,
  parseThreshold,
  type ThresholdExpression,
  type ThresholdResult,
  thresholdMetricName,
} from "./thresholds.js";
import { InvalidConfig, Unsupported } from "./unsupported.js";
import { type ScenarioState, VirtualUser } from "./vu.js";

export interface RunInput {
  scriptPath: string;
  env: Record<string, string>;
  console: Console;
}

export interface RunResult {
  options: TestOptions;
  context: RunContext;
  durationMs: number;
  thresholds: Record<string, ThresholdResult[]>;
  thresholdsFailed: boolean;
}

/** Script exports k6 treats specially; this runtime does not run them, so a script having one is refused. */
const LIFECYCLE = ["setup", "teardown", "handleSummary"];

export async function runTest(input: RunInput): Promise<RunResult> {
  const http = new SyncHttp();
  const context = new RunContext(input.scriptPath, input.env, http, input.console);
  try {
    return await runWith(context);
  } finally {
    await http.close();
  }
}

async function runWith(context: RunContext): Promise<RunResult> {
  const init = await VirtualUser.create(context, 0);
  for (const name of LIFECYCLE) {
    if (init.exported(name) !== undefined) throw new Unsupported(`export ${name}()`);
  }
  const options = parseOptions(init.exported("options"));
  const expressions = checkThresholds(context, options);
  for (const [name, scenario] of Object.entries(options.scenarios)) {
    if (typeof init.exported(scenario.exec) !== "function") {
      throw new InvalidConfig(
        `options.scenarios.${name}.exec: "${scenario.exec}" is not an exported function`,
      );
    }
  }

  // Every VU is initialized before the clock starts, as k6 does; IDs run in scenario order.
  let nextId = 1;
  const prepared: Array<{ state: ScenarioState; vus: VirtualUser[] }> = [];
  for (const [name, scenario] of Object.entries(options.scenarios)) {
    const vus: VirtualUser[] = [];
    for (let i = 0; i < initialVus(scenario); i++) vus.push(await VirtualUser.create(context, nextId++));
    prepared.push({ state: { name, options: scenario, startTime: 0, iterationsStarted: 0 }, vus });
  }

  let abort!: () => void;
  const aborted = new Promise<void>((resolve) => {
    abort = resolve;
  });
  context.onFatal = () => abort();
  const startedAt = Date.now();
  await Promise.all(
    prepared.map(async ({ state, vus }) => {
      await Promise.race([sleep(state.options.startTime), aborted]);
      if (context.fatal) return;
      state.startTime = Date.now();
      await runScenario({
        state,
        run: context,
        vus,
        newVu: () => VirtualUser.create(context, nextId++),
        aborted,
      });
    }),
  );
  if (context.fatal) throw context.fatal;
  const durationMs = Date.now() - startedAt;

  const thresholds: Record<string, ThresholdResult[]> = {};
  let thresholdsFailed = false;
  for (const [metric, list] of expressions) {
    const values = metricValues(
      context.registry.metrics.get(metric)!,
      durationMs,
      list.filter((e) => e.aggregation.startsWith("p(")).map((e) => Number(e.aggregation.slice(2, -1))),
    );
    thresholds[metric] = list.map((e) => evaluateThreshold(e, values));
    if (thresholds[metric].some((r) => !r.ok)) thresholdsFailed = true;
  }
  return { options, context, durationMs, thresholds, thresholdsFailed };
}

/** As k6 at startup: every threshold parses, names a declared metric, and uses an aggregation it has. */
function checkThresholds(context: RunContext, options: TestOptions): Map<string, ThresholdExpression[]> {
  const parsed = new Map<string, ThresholdExpression[]>();
  for (const [key, sources] of Object.entries(options.thresholds)) {
    const name = thresholdMetricName(key);
    if (UNMEASURED.includes(name)) throw new Unsupported(`a threshold on the built-in metric ${name}`);
    const metric = context.registry.metrics.get(name);
    if (!metric)
      throw new InvalidConfig(`invalid threshold defined on ${name}; reason: no metric name "${name}" found`);
    const list = sources.map(parseThreshold);
    for (const expression of list) checkAggregation(name, metric.type, expression);
    parsed.set(name, list);
  }
  return parsed;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
