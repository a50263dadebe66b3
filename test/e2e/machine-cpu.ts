// The machine's CPU busy share between two readings (os.cpus() times over every core): where the e2e rates turn
// bursty, a share near 1 says the harness's own processes were starved, not that the gateways stormed.
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
