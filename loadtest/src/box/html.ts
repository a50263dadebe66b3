// box.html, pure: one self-contained page of the box run's time series (connections, deliveries/s, latency
// percentiles, RSS per process kind) beside its goals and figures, from box.json's result and the load report.
import {
  barChart,
  escapeHtml,
  latencyPercentilesChart,
  lineChart,
  seriesChart,
} from "../load/html-report.js";
import type { LoadReport } from "../load/report.js";
import type { BoxResult } from "./result.js";

const MB = 1024 * 1024;

export function renderBoxHtml(result: BoxResult, report: LoadReport, summary: readonly string[]): string {
  const timeline = report.timeline;
  const rss = (pick: (s: BoxResult["rssTimeline"][number]) => number) =>
    result.rssTimeline.map((s) => ({ x: s.t, y: Math.round(pick(s) / MB) }));
  const charts = [
    lineChart(
      "Connections held",
      timeline.map((p) => ({ x: p.t, y: p.held })),
      "seconds",
      "#54a24b",
    ),
    seriesChart(
      "New connections per second",
      [
        {
          name: "connects/s",
          color: "#72b7b2",
          points: timeline.map((p) => ({ x: p.t, y: p.connectsPerSecond })),
        },
      ],
      "seconds",
    ),
    lineChart(
      "Deliveries per second",
      timeline.map((p) => ({ x: p.t, y: p.deliveriesPerSecond })),
      "seconds",
      "#e45756",
    ),
    latencyPercentilesChart(timeline),
    seriesChart(
      "Resident memory per process kind (MB, all processes of the kind together)",
      [
        { name: "gateways", color: "#4c78a8", points: rss((s) => s.gateways) },
        { name: "load workers", color: "#f58518", points: rss((s) => s.loadWorkers) },
        { name: "redis", color: "#b279a2", points: rss((s) => s.redis) },
      ],
      "seconds",
    ),
    barChart(
      "Publish-to-receive latency over the whole broadcast (messages per bucket)",
      report.latencyBuckets.map((b) => ({ label: `≤${b.upToMs}`, value: b.count })),
      "milliseconds",
    ),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rtgw box run ${escapeHtml(result.date)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:760px}pre{background:#f6f6f6;padding:12px;overflow:auto}svg{display:block;margin:16px 0}</style>
</head><body>
<h1>rtgw box run: ${result.connectionsRequested.toLocaleString("en-US")} connections</h1>
<p>${escapeHtml(result.date)}, ${result.durationSeconds} s, ${result.gateways} gateways on Redis, ${result.workers} load workers. ${result.pass ? "All goals met." : "Goals not met."}</p>
<pre>${escapeHtml(summary.join("\n"))}</pre>
${charts.join("\n")}
<h2>Load generator</h2>
<pre>${escapeHtml(JSON.stringify(report.config, null, 2))}</pre>
</body></html>
`;
}
