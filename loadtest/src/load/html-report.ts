// The HTML report, pure: one self-contained page (inline SVG charts, no external assets).
import type { LoadReport } from "./report.js";

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 64, right: 16, top: 16, bottom: 36 };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

export function compact(value: number): string {
  if (value >= 1e6) return `${Math.round(value / 1e5) / 10}M`;
  if (value >= 1e3) return `${Math.round(value / 1e2) / 10}k`;
  return String(Math.round(value * 100) / 100);
}

function axes(yMax: number, xLabels: string[], title: string): string {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const plotW = WIDTH - PAD.left - PAD.right;
  let svg = `<text x="${PAD.left}" y="12" font-size="12" font-weight="bold">${escapeHtml(title)}</text>`;
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    svg += `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`;
    svg += `<text x="${PAD.left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${compact((yMax * i) / 4)}</text>`;
  }
  const every = Math.max(1, Math.ceil(xLabels.length / 12));
  xLabels.forEach((label, i) => {
    if (i % every !== 0) return;
    const x = PAD.left + (plotW * (i + 0.5)) / xLabels.length;
    svg += `<text x="${x}" y="${HEIGHT - PAD.bottom + 14}" font-size="10" text-anchor="middle">${escapeHtml(label)}</text>`;
  });
  return svg;
}

export function barChart(
  title: string,
  bars: Array<{ label: string; value: number }>,
  xTitle: string,
): string {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const plotW = WIDTH - PAD.left - PAD.right;
  const yMax = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  let svg = axes(
    yMax,
    bars.map((b) => b.label),
    title,
  );
  const barW = bars.length > 0 ? plotW / bars.length : 0;
  bars.forEach((bar, i) => {
    const h = (plotH * bar.value) / yMax;
    svg += `<rect x="${PAD.left + i * barW + 1}" y="${PAD.top + plotH - h}" width="${Math.max(1, barW - 2)}" height="${h}" fill="#4c78a8"><title>${escapeHtml(bar.label)}: ${bar.value}</title></rect>`;
  });
  svg += `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 4}" font-size="11" text-anchor="middle">${escapeHtml(xTitle)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" role="img">${svg}</svg>`;
}

export interface Series {
  name: string;
  color: string;
  points: Array<{ x: number; y: number | null }>;
}

/** Several lines on shared axes, with a legend; a null y is a gap (no sample then). */
export function seriesChart(title: string, series: readonly Series[], xTitle: string, yUnit = ""): string {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const plotW = WIDTH - PAD.left - PAD.right;
  const all = series.flatMap((s) => s.points);
  const yMax = niceMax(Math.max(0, ...all.map((p) => p.y ?? 0)));
  const xMax = Math.max(1, ...all.map((p) => p.x));
  let svg = `<text x="${PAD.left}" y="12" font-size="12" font-weight="bold">${escapeHtml(title)}</text>`;
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    svg += `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`;
    svg += `<text x="${PAD.left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${compact((yMax * i) / 4)}${escapeHtml(yUnit)}</text>`;
    const x = PAD.left + (plotW * i) / 4;
    svg += `<text x="${x}" y="${HEIGHT - PAD.bottom + 14}" font-size="10" text-anchor="middle">${compact((xMax * i) / 4)}</text>`;
  }
  series.forEach((line, index) => {
    let path = "";
    let pen = "M";
    for (const p of line.points) {
      if (p.y === null) {
        pen = "M";
        continue;
      }
      const x = PAD.left + (plotW * p.x) / xMax;
      const y = PAD.top + plotH - (plotH * p.y) / yMax;
      path += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
      pen = "L";
    }
    if (path) svg += `<path d="${path.trim()}" fill="none" stroke="${line.color}" stroke-width="2"/>`;
    // The legend goes on a row of its own under the x axis' title.
    if (series.length > 1) {
      const lx = PAD.left + index * 140;
      svg += `<rect x="${lx}" y="${HEIGHT + 4}" width="10" height="10" fill="${line.color}"/>`;
      svg += `<text x="${lx + 14}" y="${HEIGHT + 13}" font-size="11">${escapeHtml(line.name)}</text>`;
    }
  });
  svg += `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 4}" font-size="11" text-anchor="middle">${escapeHtml(xTitle)}</text>`;
  const height = series.length > 1 ? HEIGHT + 20 : HEIGHT;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" role="img">${svg}</svg>`;
}

export function lineChart(
  title: string,
  points: Array<{ x: number; y: number }>,
  xTitle: string,
  color: string,
): string {
  return seriesChart(title, [{ name: title, color, points }], xTitle);
}

/** Latency percentiles over time, from the load's timeline (the worst worker's, per tick interval). */
export function latencyPercentilesChart(timeline: LoadReport["timeline"]): string {
  const line = (name: string, color: string, pick: (p: LoadReport["timeline"][number]) => number | null) => ({
    name,
    color,
    points: timeline.map((p) => ({ x: p.t, y: pick(p) })),
  });
  return seriesChart(
    "Publish-to-receive latency over time (ms, worst worker per second)",
    [
      line("p50", "#54a24b", (p) => p.p50Ms),
      line("p99", "#f58518", (p) => p.p99Ms),
      line("p999", "#e45756", (p) => p.p999Ms),
    ],
    "seconds",
  );
}

export function renderHtmlReport(report: LoadReport, summary: readonly string[]): string {
  const latency = barChart(
    "Publish-to-receive latency (messages per bucket)",
    report.latencyBuckets.map((b) => ({ label: `≤${b.upToMs}`, value: b.count })),
    "milliseconds",
  );
  const held = lineChart(
    "Connections held",
    report.timeline.map((p) => ({ x: p.t, y: p.held })),
    "seconds",
    "#54a24b",
  );
  const deliveries = lineChart(
    "Deliveries per second",
    report.timeline.map((p) => ({ x: p.t, y: p.deliveriesPerSecond })),
    "seconds",
    "#e45756",
  );
  const percentiles = latencyPercentilesChart(report.timeline);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rtgw load report ${escapeHtml(report.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:760px}pre{background:#f6f6f6;padding:12px;overflow:auto}svg{display:block;margin:16px 0}</style>
</head><body>
<h1>rtgw load report</h1>
<p>Started ${escapeHtml(report.startedAt)}, ran ${report.durationSeconds} s.</p>
<pre>${escapeHtml(summary.join("\n"))}</pre>
${latency}
${held}
${deliveries}
${percentiles}
<h2>Configuration</h2>
<pre>${escapeHtml(JSON.stringify(report.config, null, 2))}</pre>
</body></html>
`;
}
