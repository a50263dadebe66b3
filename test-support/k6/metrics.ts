// Metric sinks and the one registry every VU adds to. The aggregates are k6's: Counter count/rate, Gauge value
// (last), Rate = non-zero samples / samples, Trend min/max/avg/med/p(N) with k6's linear interpolation between
// the two closest ranks (exact over all samples: these runs are small).
import { InvalidConfig } from "./unsupported.js";

export type MetricType = "counter" | "gauge" | "rate" | "trend";
export type MetricValues = Record<string, number>;

export interface Metric {
  name: string;
  type: MetricType;
  /** Trend/Gauge values are times in milliseconds (shown with units in the summary). */
  isTime: boolean;
  samples: number;
  /** counter: sum; gauge: last value; rate: non-zero samples; trend: unused (see `values`). */
  sum: number;
  min: number;
  max: number;
  values: number[];
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;

/** k6's percentile: p in [0, 1] over ascending values, interpolated between the closest ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0] as number;
  const rank = p * (sorted.length - 1);
  const lower = Math.floor(rank);
  const below = sorted[lower] as number;
  if (lower + 1 >= sorted.length) return below;
  return below + ((sorted[lower + 1] as number) - below) * (rank - lower);
}

export class MetricRegistry {
  readonly metrics = new Map<string, Metric>();

  /** Declare (or find) a metric; the same name with another type is an error, as in k6. */
  declare(name: string, type: MetricType, isTime = false): Metric {
    if (!NAME.test(name)) throw new InvalidConfig(`invalid metric name "${name}"`);
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing.type !== type) {
        throw new InvalidConfig(`metric "${name}" already exists as a ${existing.type}, not a ${type}`);
      }
      return existing;
    }
    const metric: Metric = { name, type, isTime, samples: 0, sum: 0, min: 0, max: 0, values: [] };
    this.metrics.set(name, metric);
    return metric;
  }

  add(metric: Metric, value: number): void {
    if (metric.samples === 0 || value < metric.min) metric.min = value;
    if (metric.samples === 0 || value > metric.max) metric.max = value;
    metric.samples++;
    if (metric.type === "counter") metric.sum += value;
    else if (metric.type === "gauge") metric.sum = value;
    else if (metric.type === "rate") metric.sum += value !== 0 ? 1 : 0;
    else metric.values.push(value);
  }
}

/** The aggregates thresholds and the summary read; `percentiles` in [0, 100]. */
export function metricValues(
  metric: Metric,
  testDurationMs: number,
  percentiles: number[] = [],
): MetricValues {
  switch (metric.type) {
    case "counter":
      return { count: metric.sum, rate: metric.sum / (testDurationMs / 1000) };
    case "gauge":
      return { value: metric.sum, min: metric.min, max: metric.max };
    case "rate":
      // No samples, no rate (k6 leaves it out, and its thresholds then cannot be evaluated).
      return metric.samples > 0
        ? { rate: metric.sum / metric.samples, passes: metric.sum, fails: metric.samples - metric.sum }
        : {};
    case "trend": {
      const sorted = [...metric.values].sort((a, b) => a - b);
      const avg = sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : 0;
      const values: MetricValues = {
        count: sorted.length,
        avg,
        min: sorted.length ? metric.min : 0,
        max: sorted.length ? metric.max : 0,
        med: percentile(sorted, 0.5),
      };
      for (const p of new Set([90, 95, ...percentiles])) values[`p(${p})`] = percentile(sorted, p / 100);
      return values;
    }
  }
}
