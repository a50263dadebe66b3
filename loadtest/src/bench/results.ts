// Bench results, pure: the bench.json shape, the comparison table with ratios, the verdict against our
// targets, and the README block regenerated from them.
import { z } from "zod";

export const systemFigures = z.object({
  bytesPerConnection: z.number().nullable(),
  fanoutDeliveriesPerSecond: z.number().nullable(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  crossProcessDeliveriesPerSecond: z.number().nullable(),
});
export type SystemFigures = z.infer<typeof systemFigures>;
export const benchResults = z.object({ systems: z.record(z.string(), systemFigures) });
export type BenchResults = z.infer<typeof benchResults>;

export const OURS = "rtgw";
export const LABELS: Record<string, string> = {
  rtgw: "rtgw gateway",
  socketio: "Socket.IO 4.8 + redis-adapter",
  uws: "bare uWS.js (ceiling)",
};

interface Column {
  key: keyof SystemFigures;
  title: string;
  /** Lower is better (memory, latency): the ratio is still theirs / ours, read accordingly. */
  unit: string;
  digits: number;
}
const COLUMNS: Column[] = [
  { key: "bytesPerConnection", title: "bytes/idle conn", unit: "B", digits: 0 },
  { key: "fanoutDeliveriesPerSecond", title: "fan-out deliveries/s", unit: "/s", digits: 0 },
  { key: "p50Ms", title: "p50", unit: "ms", digits: 2 },
  { key: "p99Ms", title: "p99", unit: "ms", digits: 2 },
  { key: "crossProcessDeliveriesPerSecond", title: "cross-process deliveries/s", unit: "/s", digits: 0 },
];

function format(value: number | null, digits: number): string {
  if (value === null) return "n/a";
  return digits === 0 ? Math.round(value).toLocaleString("en-US") : value.toFixed(digits);
}

/** `theirs / ours`, e.g. "0.42x"; n/a when either is missing or ours is zero. */
export function ratio(theirs: number | null, ours: number | null): string {
  if (theirs === null || ours === null || ours === 0) return "n/a";
  const r = theirs / ours;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;
}

/** A Markdown table: each figure, with its ratio to our gateway beside it for the other systems. */
export function markdownTable(results: BenchResults): string {
  const ours = results.systems[OURS];
  const header = `| system | ${COLUMNS.map((c) => `${c.title} (${c.unit})`).join(" | ")} |`;
  const rule = `|---|${COLUMNS.map(() => "---:").join("|")}|`;
  const rows = Object.entries(results.systems).map(([name, figures]) => {
    const cells = COLUMNS.map((c) => {
      const value = format(figures[c.key], c.digits);
      return name === OURS || !ours ? value : `${value} (${ratio(figures[c.key], ours[c.key])})`;
    });
    return `| ${LABELS[name] ?? name} | ${cells.join(" | ")} |`;
  });
  return [header, rule, ...rows].join("\n");
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

export function resultsBlock(results: BenchResults, note: string): string {
  return `${markdownTable(results)}\n\n${verdict(results).line}\n\n${note}`;
}
