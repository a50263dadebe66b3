// The e2e run's figures and its timeline page. Pure: samples + events in, JSON summary and HTML (inline SVG) out.
import { type RolloutFacts, rolloutVerdict, summarizeRollout } from "./rollout-report.js";

/** What the client processes counted in one run second, by when each event happened. */
export interface EventCounts {
  /** Welcomes after a client's first one. */
  reconnects: number;
  /** Drain/shed notices (reconnect frames). */
  moveNotices: number;
  messages: number;
  /** Connection attempts that closed before they opened (refused, a draining pod's 503): CPU spent, no reconnect. */
  failedConnects: number;
}

export interface Sample extends EventCounts {
  /** Seconds since the run started. */
  t: number;
  phase: string;
  /** RealtimeGateway spec.replicas (what the autoscaler wrote). */
  replicas: number;
  readyPods: number;
  /** Connections per running pod (terminating ones included), from each pod's /api/stats. */
  pods: Record<string, number>;
  clientsOpen: number;
  clientsConnected: number;
  published: number;
  /** Cumulative over the clients so far: offsets skipped (losses seen as they happen), duplicates, regressions. */
  gaps: number;
  duplicated: number;
  outOfOrder: number;
  /** The longest event-loop stall of any client process in its last tick (ms), and the machine's CPU busy share
   * over the last sample (0-1): where rates turn bursty, these say whether the client side was starved. */
  clientLoopDelayMaxMs: number;
  /** The largest V8 heap in use among the client processes (MB). */
  clientHeapMaxMb: number;
  machineCpuBusy: number;
  /** Cores each part of the run used over the last sample (harness, clients, gateways, operator, redis, other). */
  coresByKind: Record<string, number>;
}

export interface PodDeletion {
  t: number;
  pod: string;
  reason: string;
  /**
   * The pod's own connection count (its /api/stats, read when the ReplicaSet picked it, during its preStop sleep,
   * so before any client left); 0 for a pod without a process; undefined when it could not be read.
   */
  connections: number | undefined;
  /** The ready pods that stayed, with their own connection counts read at the same moment. */
  kept: { pod: string; connections: number }[];
  /**
   * The pod-deletion-cost annotations the ReplicaSet sorted by (its own and the kept pods'): shown in the report,
   * never judged, since the simulator's own order follows them by construction.
   */
  cost: number;
  keptCosts: number[];
}

/**
 * How far above the emptiest kept pod a removed pod may be and still count as the emptiest: the operator rewrites
 * a deletion cost only when it moved by 1 % of the target (deletion-cost.ts), so two pods' costs can each be off by
 * that much.
 */
export function emptiestSlack(target: number): number {
  return Math.max(1, Math.ceil(target / 50));
}

/** The scale-down removed the pod with the fewest connections (by the pods' own counts, within the slack). */
export function removedEmptiest(d: PodDeletion, target: number): boolean {
  const own = d.connections;
  if (own === undefined) return false; // unverifiable is not a pass
  return d.kept.every((k) => own <= k.connections + emptiestSlack(target));
}

export interface ScalingEvent {
  t: number;
  reason: string;
  message: string;
}

export interface ClientTotals {
  clients: number;
  received: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  resyncs: number;
  failedSubscriptions: number;
  reconnects: number;
}

export interface RunFacts {
  scenario: string;
  startedAt: string;
  target: number;
  minReplicas: number;
  maxReplicasBound: number;
  drainSeconds: number;
  preStopSeconds: number;
  samples: Sample[];
  deletions: PodDeletion[];
  events: ScalingEvent[];
  clients: ClientTotals;
  published: number;
  publishErrors: number;
  /** Phase boundaries (seconds). */
  phases: { name: string; from: number; to: number }[];
  /** Requests the API server refused the operator (403 from the chart's RBAC): must be none. */
  rbacDenials: string[];
  /** The rolling deploy at full load (every run has one). */
  rollout: RolloutFacts | undefined;
}

export function totalConnections(s: Sample): number {
  return Object.values(s.pods).reduce((a, b) => a + b, 0);
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

/** Reconnect rate over the drain windows of the scale-down deletions: peak and mean per second. */
export function reconnectRates(f: RunFacts): {
  peak: number;
  mean: number;
  windowSeconds: number;
  total: number;
} {
  const scaleDowns = f.deletions.filter((d) => d.reason === "scale down");
  const inWindow = (t: number) =>
    scaleDowns.some((d) => t >= d.t + f.preStopSeconds && t < d.t + f.preStopSeconds + f.drainSeconds + 2);
  const seconds = f.samples.filter((s) => inWindow(s.t));
  const total = seconds.reduce((a, s) => a + s.reconnects, 0);
  const peak = seconds.reduce((m, s) => Math.max(m, s.reconnects), 0);
  return {
    peak,
    mean: seconds.length > 0 ? total / seconds.length : 0,
    windowSeconds: seconds.length,
    total,
  };
}

export function summarize(f: RunFacts) {
  const totals = f.samples.map(totalConnections);
  const peakConnections = Math.max(0, ...totals);
  const last = f.samples.at(-1);
  const finalConnections = last ? totalConnections(last) : 0;
  const maxReplicas = Math.max(0, ...f.samples.map((s) => s.replicas));
  const finalReplicas = last?.replicas ?? 0;
  const expectedPeakReplicas = clamp(
    Math.ceil(peakConnections / f.target),
    f.minReplicas,
    f.maxReplicasBound,
  );
  const expectedFinalReplicas = clamp(
    Math.ceil(finalConnections / f.target),
    f.minReplicas,
    f.maxReplicasBound,
  );
  const rates = reconnectRates(f);
  const scaleDowns = f.deletions.filter((d) => d.reason === "scale down");
  const notEmptiest = scaleDowns.filter((d) => !removedEmptiest(d, f.target));
  const rebalances = f.events.filter((e) => e.reason === "Rebalancing");
  return {
    scenario: f.scenario,
    startedAt: f.startedAt,
    durationSeconds: last?.t ?? 0,
    targetConnectionsPerPod: f.target,
    peakConnections,
    peakClientsConnected: Math.max(0, ...f.samples.map((s) => s.clientsConnected)),
    finalConnections,
    maxReplicas,
    expectedMaxReplicas: expectedPeakReplicas,
    finalReplicas,
    expectedFinalReplicas,
    published: f.published,
    publishErrors: f.publishErrors,
    rbacDenials: f.rbacDenials,
    delivered: f.clients.received,
    lost: f.clients.lost,
    duplicated: f.clients.duplicated,
    outOfOrder: f.clients.outOfOrder,
    resyncs: f.clients.resyncs,
    failedSubscriptions: f.clients.failedSubscriptions,
    reconnects: f.clients.reconnects,
    reconnectPeakPerSecond: rates.peak,
    reconnectMeanPerSecond: Math.round(rates.mean * 10) / 10,
    reconnectWindowSeconds: rates.windowSeconds,
    drainSeconds: f.drainSeconds,
    scaleDowns: scaleDowns.map((d) => ({
      t: d.t,
      pod: d.pod,
      connections: d.connections ?? null,
      keptMin: d.kept.length > 0 ? Math.min(...d.kept.map((k) => k.connections)) : null,
      keptMax: d.kept.length > 0 ? Math.max(...d.kept.map((k) => k.connections)) : null,
      cost: d.cost,
    })),
    scaleDownRemovedEmptiest: notEmptiest.length === 0,
    scaleDownsNotEmptiest: notEmptiest.map((d) => d.pod),
    rebalanceRounds: rebalances.length,
    rollout: f.rollout
      ? summarizeRollout(f.rollout, f.samples, f.deletions, {
          preStopSeconds: f.preStopSeconds,
          drainSeconds: f.drainSeconds,
        })
      : null,
    scalingEvents: f.events,
    phases: f.phases,
  };
}
export type Summary = ReturnType<typeof summarize>;

// ---- HTML ----------------------------------------------------------------------------------------

const W = 1000;
const H = 260;
const PAD = { l: 60, r: 150, t: 20, b: 30 };
const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

interface Series {
  name: string;
  points: [number, number][];
  color: string;
  step?: boolean;
  dash?: boolean;
}

function chart(
  title: string,
  series: Series[],
  tMax: number,
  phases: RunFacts["phases"],
  bars = false,
): string {
  const top = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  // A "nice" step (1, 2 or 5 × 10^k) so the four gridlines land on round numbers.
  const raw = top / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag);
  const yMax = step * Math.ceil(top / step);
  const x = (t: number) => PAD.l + (t / Math.max(1, tMax)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const parts: string[] = [];
  for (const [i, ph] of phases.entries()) {
    parts.push(
      `<rect x="${x(ph.from)}" y="${PAD.t}" width="${Math.max(0, x(ph.to) - x(ph.from))}" height="${H - PAD.t - PAD.b}" fill="${i % 2 ? "#f4f4f4" : "#fafafa"}"/>`,
      `<text x="${x(ph.from) + 3}" y="${PAD.t + 11}" font-size="10" fill="#888">${esc(ph.name)}</text>`,
    );
  }
  for (let v = 0; v <= yMax; v += step) {
    parts.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${PAD.l - 5}" y="${y(v) + 4}" font-size="10" text-anchor="end">${Math.round(v)}</text>`,
    );
  }
  for (let t = 0; t <= tMax; t += Math.max(10, Math.round(tMax / 10 / 10) * 10)) {
    parts.push(`<text x="${x(t)}" y="${H - 10}" font-size="10" text-anchor="middle">${t}s</text>`);
  }
  for (const [i, s] of series.entries()) {
    if (bars) {
      const bw = Math.max(1, (W - PAD.l - PAD.r) / Math.max(1, tMax) - 0.5);
      for (const [t, v] of s.points) {
        if (v > 0)
          parts.push(
            `<rect x="${x(t)}" y="${y(v)}" width="${bw}" height="${y(0) - y(v)}" fill="${s.color}"/>`,
          );
      }
    } else {
      let d = "";
      let prev: [number, number] | undefined;
      for (const p of s.points) {
        if (!prev) d += `M${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`;
        else if (s.step) d += `H${x(p[0]).toFixed(1)}V${y(p[1]).toFixed(1)}`;
        else d += `L${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`;
        prev = p;
      }
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dash ? ' stroke-dasharray="5,3"' : ""}/>`,
      );
    }
    parts.push(
      `<rect x="${W - PAD.r + 10}" y="${PAD.t + i * 14}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${W - PAD.r + 24}" y="${PAD.t + i * 14 + 9}" font-size="10">${esc(s.name)}</text>`,
    );
  }
  return `<h2>${esc(title)}</h2><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" style="background:#fff;border:1px solid #ccc">${parts.join("")}</svg>`;
}

export function renderHtml(f: RunFacts, s: Summary): string {
  const tMax = f.samples.at(-1)?.t ?? 1;
  const podNames = [...new Set(f.samples.flatMap((x) => Object.keys(x.pods)))];
  const podSeries: Series[] = podNames.map((name, i) => ({
    name: name.replace(/^.*-([0-9a-f]{5})$/, "pod …$1"),
    color: COLORS[i % COLORS.length] as string,
    points: f.samples
      .filter((x) => name in x.pods)
      .map((x) => [x.t, x.pods[name] as number] as [number, number]),
  }));
  const total: Series = {
    name: "all pods",
    color: "#000",
    points: f.samples.map((x) => [x.t, totalConnections(x)]),
  };
  const replicas: Series[] = [
    { name: "spec.replicas", color: "#d62728", step: true, points: f.samples.map((x) => [x.t, x.replicas]) },
    { name: "ready pods", color: "#2ca02c", step: true, points: f.samples.map((x) => [x.t, x.readyPods]) },
    {
      name: "ceil(conns/target)",
      color: "#555",
      step: true,
      dash: true,
      points: f.samples.map((x) => [x.t, Math.ceil(totalConnections(x) / f.target)]),
    },
  ];
  const reconnects: Series[] = [
    { name: "reconnects/s", color: "#9467bd", points: f.samples.map((x) => [x.t, x.reconnects]) },
  ];
  const rows = Object.entries(s)
    .filter(([, v]) => typeof v !== "object")
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td><b>${esc(String(v))}</b></td></tr>`)
    .join("");
  const rollout = s.rollout
    ? Object.entries(s.rollout)
        .map(([k, v]) => `<tr><td>${esc(k)}</td><td><b>${esc(JSON.stringify(v))}</b></td></tr>`)
        .join("")
    : "<tr><td>none</td></tr>";
  const events = f.events
    .map((e) => `<tr><td>${e.t}s</td><td>${esc(e.reason)}</td><td>${esc(e.message)}</td></tr>`)
    .join("");
  const deletions = f.deletions
    .map(
      (d) =>
        `<tr><td>${d.t}s</td><td>${esc(d.pod)}</td><td>${esc(d.reason)}</td><td>${d.connections ?? "?"}</td><td>${esc(d.kept.map((k) => `${k.pod} ${k.connections}`).join(", "))}</td><td>${d.cost}</td><td>${esc(d.keptCosts.join(", "))}</td></tr>`,
    )
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>rtgw e2e: ${esc(f.scenario)}</title>
<style>body{font:13px system-ui,sans-serif;margin:20px;max-width:1100px}td{padding:2px 8px;border-bottom:1px solid #eee;vertical-align:top}table{border-collapse:collapse}</style></head><body>
<h1>Cluster in a box: ${esc(f.scenario)} (${esc(f.startedAt)})</h1>
<p>Fake Kubernetes API server, the real operator, a pod simulator running one real gateway process per pod on its own
loopback address, real Redis, and client processes using the client SDK through a Service stand-in.</p>
<table>${rows}</table>
${chart("Connections per pod", [total, ...podSeries], tMax, f.phases)}
${chart("Replicas", replicas, tMax, f.phases)}
${chart("Client reconnects per second", reconnects, tMax, f.phases, true)}
<h2>Rolling deploy at full load (reconnect rates over the drains' window)</h2><table>${rollout}</table>
<h2>Pod deletions (connections: each pod's own /api/stats when the ReplicaSet picked one; cost: its pod-deletion-cost)</h2>
<table><tr><th>t</th><th>pod</th><th>why</th><th>its connections</th><th>ready pods kept (connections)</th><th>its cost</th><th>kept pods' costs</th></tr>${deletions}</table>
<h2>Operator Events</h2><table>${events}</table>
</body></html>`;
}

/** What must hold for the run to pass; each failure is a readable sentence. */
export function verdict(s: Summary, peakClients: number, tolerance = 0.1): string[] {
  const fail: string[] = [];
  const band = (conns: number, lo: number, hi: number) => ({
    min: Math.max(lo, Math.min(hi, Math.ceil(conns / s.targetConnectionsPerPod / (1 + tolerance)))),
    max: Math.max(lo, Math.min(hi, Math.ceil(conns / s.targetConnectionsPerPod / (1 - tolerance)))),
  });
  if (s.lost !== 0) fail.push(`${s.lost} message(s) lost`);
  if (s.duplicated !== 0) fail.push(`${s.duplicated} message(s) duplicated`);
  if (s.outOfOrder !== 0) fail.push(`${s.outOfOrder} message(s) out of order`);
  if (s.failedSubscriptions !== 0) fail.push(`${s.failedSubscriptions} subscription(s) never acknowledged`);
  if (s.published === 0) fail.push("nothing was published");
  if (s.rbacDenials.length > 0)
    fail.push(`the chart's RBAC refused the operator: ${s.rbacDenials.join("; ")}`);
  if (s.peakConnections < peakClients * 0.95)
    fail.push(`peak ${s.peakConnections} < 95 % of ${peakClients} clients`);
  const lo = Math.min(s.expectedFinalReplicas, s.expectedMaxReplicas);
  const hi = Math.max(s.expectedFinalReplicas, s.expectedMaxReplicas);
  const up = band(s.peakConnections, lo, hi);
  if (s.maxReplicas < up.min || s.maxReplicas > up.max)
    fail.push(
      `max replicas ${s.maxReplicas} outside ${up.min}..${up.max} for ${s.peakConnections} connections`,
    );
  const down = band(s.finalConnections, lo, hi);
  if (s.finalReplicas < down.min || s.finalReplicas > down.max)
    fail.push(
      `final replicas ${s.finalReplicas} outside ${down.min}..${down.max} for ${s.finalConnections} connections`,
    );
  if (s.scaleDowns.length === 0) fail.push("no scale-down happened");
  if (!s.scaleDownRemovedEmptiest)
    fail.push(
      `a scale-down removed a pod that was not the emptiest by its own connection count: ${s.scaleDownsNotEmptiest.join(", ")}`,
    );
  if (s.rollout === null) fail.push("no rolling deploy ran");
  else fail.push(...rolloutVerdict(s.rollout));
  return fail;
}
