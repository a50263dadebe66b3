// Bench results, pure: the bench.json shape, the comparison tables with ratios, the verdict against our
// targets and issue 14's goals, and the README block regenerated from them.
import { z } from "zod";

/** A figure not measured (scenario not selected, or failed) is null; those added later may be absent in old files. */
const later = z.number().nullable().optional();
export const systemFigures = z.object({
  bytesPerConnection: z.number().nullable(),
  fanoutDeliveriesPerSecond: z.number().nullable(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  crossProcessDeliveriesPerSecond: z.number().nullable(),
  /** New connections/s one process accepted (no TLS). */
  connectsPerSecond: later,
  /** One pod at its open-file cap relaying from Redis: deliveries/s, and p99 of a tracking sample. */
  relayDeliveriesPerSecond: later,
  relayP99Ms: later,
  /** CPU the pod and the process feeding Redis used meanwhile, in cores (JSON only: which one was the limit). */
  relayPodCpuCores: later,
  relayFeederCpuCores: later,
});
export type SystemFigures = z.infer<typeof systemFigures>;
export const redisPublishFigures = z.object({
  gatewayPublishesPerSecond: z.number().nullable(),
  redisBenchmarkPublishesPerSecond: z.number().nullable(),
  redisBenchmarkPipelinedPublishesPerSecond: z.number().nullable(),
  /** redis-server CPU per publish (µs) through our script and per raw PUBLISH; our client's CPU per publish. */
  gatewayRedisCpuUsPerPublish: later,
  redisBenchmarkRedisCpuUsPerPublish: later,
  gatewayClientCpuUsPerPublish: later,
  scriptUsPerCall: z.record(z.string(), z.number()).nullable().optional(),
});
export const benchResults = z.object({
  systems: z.record(z.string(), systemFigures),
  redisPublish: redisPublishFigures.nullable().optional(),
});
export type BenchResults = z.infer<typeof benchResults>;

export function emptyFigures(): SystemFigures {
  return {
    bytesPerConnection: null,
    fanoutDeliveriesPerSecond: null,
    p50Ms: null,
    p99Ms: null,
    crossProcessDeliveriesPerSecond: null,
    connectsPerSecond: null,
    relayDeliveriesPerSecond: null,
    relayP99Ms: null,
    relayPodCpuCores: null,
    relayFeederCpuCores: null,
  };
}

export const OURS = "rtgw";
export const LABELS: Record<string, string> = {
  rtgw: "rtgw gateway",
  socketio: "Socket.IO 4.8 + redis-adapter",
  uws: "bare uWS.js (ceiling)",
  soketi: "Soketi 1.6.1 (+ Redis adapter)",
};

interface Column {
  key: keyof SystemFigures;
  title: string;
  /** Lower is better (memory, latency): the ratio is still theirs / ours, read accordingly. */
  unit: string;
  digits: number;
}
export const COLUMNS: Column[] = [
  { key: "bytesPerConnection", title: "bytes/idle conn", unit: "B", digits: 0 },
  { key: "fanoutDeliveriesPerSecond", title: "fan-out deliveries/s", unit: "/s", digits: 0 },
  { key: "p50Ms", title: "p50", unit: "ms", digits: 2 },
  { key: "p99Ms", title: "p99", unit: "ms", digits: 2 },
  { key: "crossProcessDeliveriesPerSecond", title: "cross-process deliveries/s", unit: "/s", digits: 0 },
];
/** The second table: connect rate and the pod at its open-file cap. */
export const SCALE_COLUMNS: Column[] = [
  { key: "connectsPerSecond", title: "connects/s", unit: "/s", digits: 0 },
  { key: "relayDeliveriesPerSecond", title: "pod at cap: deliveries/s from Redis", unit: "/s", digits: 0 },
  { key: "relayP99Ms", title: "pod at cap: p99", unit: "ms", digits: 2 },
];

function format(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined) return "n/a";
  return digits === 0 ? Math.round(value).toLocaleString("en-US") : value.toFixed(digits);
}

/** `theirs / ours`, e.g. "0.42x"; n/a when either is missing or ours is zero. */
export function ratio(theirs: number | null | undefined, ours: number | null | undefined): string {
  if (theirs === null || theirs === undefined || ours === null || ours === undefined || ours === 0)
    return "n/a";
  const r = theirs / ours;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;
}

/** A Markdown table: each figure, with its ratio to our gateway beside it for the other systems. */
export function markdownTable(results: BenchResults, columns: readonly Column[] = COLUMNS): string {
  const ours = results.systems[OURS];
  const header = `| system | ${columns.map((c) => `${c.title} (${c.unit})`).join(" | ")} |`;
  const rule = `|---|${columns.map(() => "---:").join("|")}|`;
  const rows = Object.entries(results.systems).map(([name, figures]) => {
    const cells = columns.map((c) => {
      const value = format(figures[c.key], c.digits);
      return name === OURS || !ours ? value : `${value} (${ratio(figures[c.key], ours[c.key])})`;
    });
    return `| ${LABELS[name] ?? name} | ${cells.join(" | ")} |`;
  });
  return [header, rule, ...rows].join("\n");
}

/** The Redis publish comparison as one line: our publish script's rate beside redis-benchmark's, with ratios. */
export function redisPublishLine(results: BenchResults): string | null {
  const r = results.redisPublish;
  if (!r) return null;
  return (
    `publishes into one Redis: rtgw publish script ${format(r.gatewayPublishesPerSecond, 0)}/s; ` +
    `redis-benchmark PUBLISH ${format(r.redisBenchmarkPublishesPerSecond, 0)}/s ` +
    `(ours ${ratio(r.gatewayPublishesPerSecond, r.redisBenchmarkPublishesPerSecond)} of it), ` +
    `pipelined -P 16 ${format(r.redisBenchmarkPipelinedPublishesPerSecond, 0)}/s ` +
    `(ours ${ratio(r.gatewayPublishesPerSecond, r.redisBenchmarkPipelinedPublishesPerSecond)}); ` +
    `redis-server CPU per publish ${format(r.gatewayRedisCpuUsPerPublish, 1)} µs through the script, ` +
    `${format(r.redisBenchmarkRedisCpuUsPerPublish, 1)} µs per raw PUBLISH; our client ${format(r.gatewayClientCpuUsPerPublish, 1)} µs per publish` +
    (r.scriptUsPerCall && Object.keys(r.scriptUsPerCall).length > 0
      ? `; Redis's commandstats, µs per call: ${Object.entries(r.scriptUsPerCall)
          .map(([name, us]) => `${name} ${us}`)
          .join(", ")}`
      : "")
  );
}

/** The tables whose figures were measured, then the Redis publish line. */
export function markdownTables(results: BenchResults): string {
  const measured = (columns: readonly Column[]) =>
    Object.values(results.systems).some((f) => columns.some((c) => typeof f[c.key] === "number"));
  const parts: string[] = [];
  // The first table always (as before), unless only the other figures were measured.
  if (measured(COLUMNS) || !measured(SCALE_COLUMNS)) parts.push(markdownTable(results));
  if (measured(SCALE_COLUMNS)) parts.push(markdownTable(results, SCALE_COLUMNS));
  const publish = redisPublishLine(results);
  if (publish) parts.push(publish);
  return parts.join("\n\n");
}

export interface Verdict {
  checks: Array<{ name: string; pass: boolean | null; detail: string }>;
  line: string;
}

/** Our targets: ≤2.5 KB per idle connection; fan-out ≥70% of bare uWS and ≥20x Socket.IO; p99 within 2x of bare uWS. */
export function verdict(results: BenchResults): Verdict {
  const ours = results.systems[OURS];
  const uws = results.systems.uws;
  const sio = results.systems.socketio;
  const check = (name: string, ok: boolean | null, detail: string) => ({ name, pass: ok, detail });
  const known = (...values: Array<number | null | undefined>) => values.every((v) => typeof v === "number");
  const checks = [
    check(
      "memory ≤ 2.5 KB/conn",
      known(ours?.bytesPerConnection) ? (ours?.bytesPerConnection as number) <= 2560 : null,
      `${format(ours?.bytesPerConnection ?? null, 0)} B`,
    ),
    check(
      "fan-out ≥ 70% of bare uWS",
      known(ours?.fanoutDeliveriesPerSecond, uws?.fanoutDeliveriesPerSecond)
        ? (ours?.fanoutDeliveriesPerSecond as number) >= 0.7 * (uws?.fanoutDeliveriesPerSecond as number)
        : null,
      ratio(ours?.fanoutDeliveriesPerSecond ?? null, uws?.fanoutDeliveriesPerSecond ?? null),
    ),
    check(
      "fan-out ≥ 20x Socket.IO",
      known(ours?.fanoutDeliveriesPerSecond, sio?.fanoutDeliveriesPerSecond)
        ? (ours?.fanoutDeliveriesPerSecond as number) >= 20 * (sio?.fanoutDeliveriesPerSecond as number)
        : null,
      ratio(ours?.fanoutDeliveriesPerSecond ?? null, sio?.fanoutDeliveriesPerSecond ?? null),
    ),
    check(
      "p99 ≤ 2x bare uWS",
      known(ours?.p99Ms, uws?.p99Ms) ? (ours?.p99Ms as number) <= 2 * (uws?.p99Ms as number) : null,
      ratio(ours?.p99Ms ?? null, uws?.p99Ms ?? null),
    ),
  ];
  const mark = (pass: boolean | null) => (pass === null ? "?" : pass ? "PASS" : "FAIL");
  const line = `verdict: ${checks.every((c) => c.pass === true) ? "PASS" : "NOT MET"}: ${checks
    .map((c) => `${c.name} ${mark(c.pass)} (${c.detail})`)
    .join("; ")}`;
  return { checks, line };
}

export const RESULTS_BEGIN = "<!-- bench:results -->";
export const RESULTS_END = "<!-- /bench:results -->";

/**
 * Replace what sits between `<!-- NAME:results -->` and `<!-- /NAME:results -->` (blocks inside the README's
 * loadtest and bench sections) with `block`.
 */
export function replaceResultsBlock(readme: string, block: string, name = "bench"): string {
  const beginMark = `<!-- ${name}:results -->`;
  const endMark = `<!-- /${name}:results -->`;
  const begin = readme.indexOf(beginMark);
  const end = readme.indexOf(endMark);
  if (begin < 0 || end < begin) throw new Error(`README has no ${beginMark} … ${endMark} block`);
  return `${readme.slice(0, begin + beginMark.length)}\n${block}\n${readme.slice(end)}`;
}

/** Higher is better for these figures; lower for the others (memory, latency). */
const HIGHER_IS_BETTER: ReadonlySet<keyof SystemFigures> = new Set([
  "fanoutDeliveriesPerSecond",
  "crossProcessDeliveriesPerSecond",
  "connectsPerSecond",
  "relayDeliveriesPerSecond",
]);

/**
 * Issue 14's goals, beside the verdict: ≤ 1.25x bare uWS per idle connection; ahead of Soketi on every figure
 * both have; the pod at its open-file cap relaying ≥ 1,000,000 deliveries/s from Redis with p99 ≤ 50 ms.
 */
export function goals(results: BenchResults): Verdict {
  const ours = results.systems[OURS];
  const uws = results.systems.uws;
  const soketi = results.systems.soketi;
  const num = (v: number | null | undefined): v is number => typeof v === "number";
  const keys = [...COLUMNS, ...SCALE_COLUMNS].map((c) => c.key);
  const shared = soketi && ours ? keys.filter((k) => num(ours[k]) && num(soketi[k])) : [];
  const behind = shared.filter((k) => {
    const a = ours?.[k] as number;
    const b = soketi?.[k] as number;
    return HIGHER_IS_BETTER.has(k) ? a <= b : a >= b;
  });
  const checks = [
    {
      name: "memory ≤ 1.25x bare uWS",
      pass:
        num(ours?.bytesPerConnection) && num(uws?.bytesPerConnection)
          ? ours.bytesPerConnection <= 1.25 * uws.bytesPerConnection
          : null,
      detail: ratio(ours?.bytesPerConnection, uws?.bytesPerConnection),
    },
    {
      name: "ahead of Soketi on every figure",
      pass: shared.length === 0 ? null : behind.length === 0,
      detail:
        shared.length === 0
          ? "not measured"
          : behind.length === 0
            ? `${shared.length} figure${shared.length === 1 ? "" : "s"}`
            : `behind on ${behind.join(", ")}`,
    },
    {
      name: "pod at cap ≥ 1M deliveries/s",
      pass: num(ours?.relayDeliveriesPerSecond) ? ours.relayDeliveriesPerSecond >= 1_000_000 : null,
      detail: `${format(ours?.relayDeliveriesPerSecond, 0)}/s`,
    },
    {
      name: "pod at cap p99 ≤ 50 ms",
      pass: num(ours?.relayP99Ms) ? ours.relayP99Ms <= 50 : null,
      detail: `${format(ours?.relayP99Ms, 2)} ms`,
    },
  ];
  const mark = (pass: boolean | null) => (pass === null ? "?" : pass ? "PASS" : "FAIL");
  const line = `goals (issue 14): ${checks.every((c) => c.pass === true) ? "MET" : "NOT MET"}: ${checks
    .map((c) => `${c.name} ${mark(c.pass)} (${c.detail})`)
    .join("; ")}`;
  return { checks, line };
}

export function resultsBlock(results: BenchResults, note: string): string {
  return `${markdownTables(results)}\n\n${verdict(results).line}\n${goals(results).line}\n\n${note}`;
}
