// The end-of-test summary: a text report in k6's shape (thresholds ✓/✗, checks, metrics) and, for tests, the
// same data as JSON in the shape k6 hands to handleSummary(data) (metrics[name].values / .thresholds[src].ok,
// root_group.checks), plus this runtime's own counts under `runtime`.
import { metricValues } from "./metrics.js";
import type { RunResult } from "./run.js";

export interface SummaryJson {
  state: { testRunDurationMs: number };
  metrics: Record<
    string,
    {
      type: string;
      contains: "time" | "default";
      values: Record<string, number>;
      thresholds?: Record<string, { ok: boolean; evaluated: boolean }>;
    }
  >;
  root_group: { checks: Array<{ name: string; passes: number; fails: number }> };
  runtime: { iterationErrors: number; interruptedIterations: number; thresholdsFailed: boolean };
}

export function summaryJson(result: RunResult): SummaryJson {
  const metrics: SummaryJson["metrics"] = {};
  for (const metric of result.context.registry.metrics.values()) {
    const thresholds = result.thresholds[metric.name];
    if (metric.samples === 0 && !thresholds) continue;
    const percentiles = (thresholds ?? [])
      .map((t) => /^p\(([\d.]+)\)/.exec(t.source.trim())?.[1])
      .filter((p): p is string => p !== undefined)
      .map(Number);
    metrics[metric.name] = {
      type: metric.type,
      contains: metric.isTime ? "time" : "default",
      values: metricValues(metric, result.durationMs, percentiles),
      ...(thresholds && {
        thresholds: Object.fromEntries(
          thresholds.map((t) => [t.source, { ok: t.ok, evaluated: t.actual !== undefined }]),
        ),
      }),
    };
  }
  return {
    state: { testRunDurationMs: result.durationMs },
    metrics,
    root_group: {
      checks: [...result.context.checks].map(([name, tally]) => ({ name, ...tally })),
    },
    runtime: {
      iterationErrors: result.context.iterationErrors,
      interruptedIterations: result.context.interruptedIterations,
      thresholdsFailed: result.thresholdsFailed,
    },
  };
}

function format(value: number, isTime: boolean): string {
  if (!isTime) return Number.isInteger(value) ? String(value) : value.toFixed(4);
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(2)}ms`;
}

export function summaryText(result: RunResult): string {
  const data = summaryJson(result);
  const lines: string[] = [];
  lines.push("  THRESHOLDS");
  for (const [name, results] of Object.entries(result.thresholds)) {
    lines.push(`    ${name}`);
    for (const t of results) {
      const mark = t.actual === undefined ? "?" : t.ok ? "✓" : "✗";
      const note = t.actual === undefined ? " (no samples: not evaluated, as in k6)" : ` (${t.actual})`;
      lines.push(`    ${mark} '${t.source}'${note}`);
    }
  }
  lines.push("  CHECKS");
  for (const check of data.root_group.checks) {
    lines.push(
      `    ${check.fails === 0 ? "✓" : "✗"} ${check.name}: ${check.passes} passed, ${check.fails} failed`,
    );
  }
  lines.push("  METRICS");
  for (const [name, metric] of Object.entries(data.metrics)) {
    const isTime = metric.contains === "time";
    const values = Object.entries(metric.values)
      .map(([k, v]) => `${k}=${k === "count" || k === "passes" || k === "fails" ? v : format(v, isTime)}`)
      .join(" ");
    lines.push(`    ${name.padEnd(28, ".")} ${values}`);
  }
  const { iterationErrors, interruptedIterations } = data.runtime;
  lines.push(
    `  run ${(result.durationMs / 1000).toFixed(1)}s, ${iterationErrors} iteration errors, ${interruptedIterations} interrupted iterations`,
  );
  if (result.thresholdsFailed) lines.push("ERRO thresholds on metrics have been crossed");
  return lines.join("\n");
}
