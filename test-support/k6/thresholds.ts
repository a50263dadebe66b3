// Thresholds as k6 defines them: "<aggregation> <operator> <number>" per metric, evaluated once at the end of the
// test over the whole run. Pure: parse, check against a metric's type, evaluate against its aggregated values.
import type { MetricType, MetricValues } from "./metrics.js";
import { InvalidConfig, Unsupported } from "./unsupported.js";

export type Operator = ">" | ">=" | "<" | "<=" | "==" | "===" | "!=";
export interface ThresholdExpression {
  source: string;
  /** "avg", "min", "max", "med", "count", "rate", "value", or "p(N)" with N in [0, 100]. */
  aggregation: string;
  operator: Operator;
  value: number;
}

const EXPRESSION =
  /^\s*(avg|min|max|med|count|rate|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(>=|<=|===|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;

const METHODS: Record<MetricType, (aggregation: string) => boolean> = {
  counter: (a) => a === "count" || a === "rate",
  gauge: (a) => a === "value",
  rate: (a) => a === "rate",
  trend: (a) => ["avg", "min", "max", "med"].includes(a) || a.startsWith("p("),
};

export function parseThreshold(source: string): ThresholdExpression {
  const match = EXPRESSION.exec(source);
  if (!match)
    throw new InvalidConfig(`invalid threshold "${source}" (expected e.g. "p(95)<200", "rate>0.99")`);
  const percentile = match[2];
  if (percentile !== undefined && Number(percentile) > 100) {
    throw new InvalidConfig(`invalid threshold "${source}": percentile above 100`);
  }
  return {
    source,
    aggregation: percentile === undefined ? (match[1] as string) : `p(${Number(percentile)})`,
    operator: match[3] as Operator,
    value: Number(match[4]),
  };
}

/** The metric name a thresholds key names; k6's sub-metric selectors (`name{tag:value}`) are not supported. */
export function thresholdMetricName(key: string): string {
  if (key.includes("{")) throw new Unsupported(`threshold on a sub-metric (${key})`);
  return key;
}

/** Refuses an aggregation the metric type has not got, as k6 does at startup. */
export function checkAggregation(metric: string, type: MetricType, expression: ThresholdExpression): void {
  if (!METHODS[type](expression.aggregation)) {
    throw new InvalidConfig(
      `invalid threshold "${expression.source}" on ${metric}: a ${type} metric has no ${expression.aggregation}`,
    );
  }
}

export interface ThresholdResult {
  source: string;
  ok: boolean;
  /** The aggregated value compared; undefined when k6 has none (a Rate without samples). */
  actual: number | undefined;
}

/**
 * Evaluate at the end of the test. As in k6: an empty Counter counts 0 and an empty Trend reads 0, but an empty
 * Rate has no value, so its thresholds are reported as errors and do not fail the run (k6 logs "Threshold error").
 */
export function evaluateThreshold(expression: ThresholdExpression, values: MetricValues): ThresholdResult {
  const actual = values[expression.aggregation];
  if (actual === undefined) return { source: expression.source, ok: true, actual };
  const v = expression.value;
  const ok = {
    ">": actual > v,
    ">=": actual >= v,
    "<": actual < v,
    "<=": actual <= v,
    "==": actual === v,
    "===": actual === v,
    "!=": actual !== v,
  }[expression.operator];
  return { source: expression.source, ok, actual };
}
