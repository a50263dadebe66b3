// Where a profiled process spent its CPU, pure: a V8 .cpuprofile (what `node --cpu-prof` writes) in, the functions
// with the most self time out. The box's --profile uses it as the frontier's evidence: which code the cores went to.
import { z } from "zod";

const cpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number().int(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number().int(),
      }),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number().int()),
  timeDeltas: z.array(z.number()),
});
export type CpuProfile = z.infer<typeof cpuProfile>;

export interface SelfTime {
  /** `name (file:line)`, the file relative to the checkout where it is inside it. */
  function: string;
  selfMs: number;
  /** Share of the profile's sampled time, percent. */
  percent: number;
}

export interface ProfileSummary {
  /** Which process: "gateway" or "load worker". */
  process: string;
  file: string;
  /** Sampled time in all, and the part V8 marked (idle): waiting for I/O, not busy. */
  totalMs: number;
  idleMs: number;
  top: SelfTime[];
}

/** Parse a .cpuprofile's text; a clear error when it is not one. */
export function parseCpuProfile(text: string): CpuProfile {
  const parsed = cpuProfile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`not a V8 cpu profile: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

function label(frame: CpuProfile["nodes"][number]["callFrame"], root: string): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  const url = frame.url.replace(/^file:\/\//, "");
  const file = root && url.startsWith(`${root}/`) ? url.slice(root.length + 1) : url;
  return `${name} (${file}:${frame.lineNumber + 1})`;
}

/**
 * Self time per function: each sample is charged the time until the next sample (as DevTools does; the last one
 * nothing), summed over every node of the same function and place. `root` shortens file URLs inside the checkout.
 */
export function summarizeProfile(
  profile: CpuProfile,
  meta: { process: string; file: string; root?: string; top?: number },
): ProfileSummary {
  const labelOf = new Map<number, string>();
  for (const node of profile.nodes) labelOf.set(node.id, label(node.callFrame, meta.root ?? ""));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const name = labelOf.get(profile.samples[i] as number) ?? "(unknown node)";
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    totalUs += us;
  }
  const idleUs = selfUs.get("(idle)") ?? 0;
  const top = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, meta.top ?? 15)
    .map(([name, us]) => ({
      function: name,
      selfMs: round1(us / 1000),
      percent: totalUs > 0 ? round1((100 * us) / totalUs) : 0,
    }));
  return {
    process: meta.process,
    file: meta.file,
    totalMs: round1(totalUs / 1000),
    idleMs: round1(idleUs / 1000),
    top,
  };
}

/** The summary as printed and written beside the profiles (profile-summary.txt). */
export function profileLines(summary: ProfileSummary): string[] {
  const busy = summary.totalMs - summary.idleMs;
  return [
    `${summary.process}: ${summary.file}: ${round1(summary.totalMs / 1000)} s sampled, ${round1(busy / 1000)} s busy ` +
      `(${summary.totalMs > 0 ? round1((100 * busy) / summary.totalMs) : 0}%); top self time:`,
    ...summary.top.map(
      (t) => `  ${t.percent.toFixed(1).padStart(5)}%  ${t.selfMs.toFixed(0).padStart(7)} ms  ${t.function}`,
    ),
  ];
}
