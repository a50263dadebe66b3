// Limits the process itself imposes: open files bound how many sockets we may accept.
import { readFileSync } from "node:fs";

/** Parse the soft "Max open files" limit out of /proc/self/limits text; undefined when absent or unlimited. */
export function parseOpenFileLimit(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(limitsText);
  if (!m || m[1] === "unlimited") return undefined;
  return Number(m[1]);
}

/** File descriptors kept back for listeners, the broker, logs, and the metrics server. */
export const FD_RESERVE = 64;

/** Connections we can really hold: the configured max, capped below the open-file limit. */
export function effectiveMaxConnections(configured: number, openFileLimit: number | undefined): number {
  if (openFileLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, openFileLimit - FD_RESERVE));
}

export function readOpenFileLimit(): number | undefined {
  try {
    return parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return undefined;
  }
}
