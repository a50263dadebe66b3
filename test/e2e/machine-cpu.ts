// The machine's CPU busy share between two readings (os.cpus() times over every core): where the e2e rates turn
// bursty, a share near 1 says the harness's own processes were starved, not that the gateways stormed.
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

export interface CpuReading {
  busy: number;
  total: number;
}

export function machineCpu(): CpuReading {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const { user, nice, sys, idle, irq } = c.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/** Busy share (0-1, two decimals) between readings; 0 when no time passed. */
export function busyShare(before: CpuReading, after: CpuReading): number {
  const total = after.total - before.total;
  return total > 0 ? Math.round(((after.busy - before.busy) / total) * 100) / 100 : 0;
}

/** Which part of the run a process is, from its command line; undefined for processes outside the run. */
export function processKind(cmdline: string, pid: number, harnessPid: number): string | undefined {
  if (pid === harnessPid) return "harness";
  if (cmdline.includes("test/e2e/clients.ts")) return "clients";
  if (cmdline.includes("gateway/src/main.ts")) return "gateways";
  if (cmdline.includes("cli/rtgw.ts")) return "operator";
  if (cmdline.startsWith("redis-server")) return "redis";
  return undefined;
}

/** CPU seconds so far per kind (utime + stime of every live process of that kind; others are "other"). */
export function cpuSecondsByKind(harnessPid = process.pid): Record<string, number> {
  const out: Record<string, number> = {};
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out; // not Linux: the breakdown is left out
  }
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      // Fields after the parenthesised name: state is field 3, utime 14, stime 15 (clock ticks, 100/s on Linux).
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(rest[11]) + Number(rest[12]);
      const cmdline = readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ");
      const kind = processKind(cmdline, Number(p), harnessPid) ?? "other";
      out[kind] = (out[kind] ?? 0) + ticks / 100;
    } catch {
      // exited between the listing and the read
    }
  }
  return out;
}

/** Cores used per kind between two readings `seconds` apart (a kind whose processes exited reads 0, not less). */
export function coresByKind(
  before: Record<string, number>,
  after: Record<string, number>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (seconds <= 0) return out;
  for (const [k, v] of Object.entries(after))
    out[k] = Math.max(0, Math.round(((v - (before[k] ?? 0)) / seconds) * 100) / 100);
  return out;
}
