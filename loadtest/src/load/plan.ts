// Pure planning for a load run: how many workers, who opens which connection from which source address,
// how fast to ramp, and how an offset stream turns into losses and duplicates.
import type { BackoffPolicy } from "../../../client/src/backoff.js";

/** A process may hold 20,000 open files here; keep headroom for pipes, the IPC channel and stragglers. */
export const MAX_CONNECTIONS_PER_WORKER = 18_000;
/**
 * Ports in use per loopback source address. A connect from a bound address is bind(port 0) first, and Linux finds
 * that free port by scanning half of the ~28,000-port ephemeral range: measured here, 30-40 µs of system time per
 * connect while an address holds ~2,000 ports (TIME_WAIT included), 3,000-3,800 µs once it holds ~5,000. At 8,000
 * per address the e2e's rollout reconnects and the box's ramp spent most of their client CPU inside bind().
 */
export const CONNECTIONS_PER_SOURCE_ADDRESS = 1_000;

export function workerCount(connections: number, requested: number | "auto"): number {
  const needed = Math.max(1, Math.ceil(connections / 16_000));
  if (requested === "auto") return needed;
  if (Math.ceil(connections / requested) > MAX_CONNECTIONS_PER_WORKER) {
    throw new Error(
      `${requested} workers would hold ${Math.ceil(connections / requested)} connections each; ` +
        `at most ${MAX_CONNECTIONS_PER_WORKER} fit in one process (use --workers ${Math.ceil(connections / MAX_CONNECTIONS_PER_WORKER)} or more)`,
    );
  }
  return requested;
}

/** Connection shares, as even as possible, each with the global index of its first connection. */
export function splitConnections(total: number, workers: number): Array<{ first: number; count: number }> {
  const shares: Array<{ first: number; count: number }> = [];
  let first = 0;
  for (let w = 0; w < workers; w++) {
    const count = Math.floor(total / workers) + (w < total % workers ? 1 : 0);
    shares.push({ first, count });
    first += count;
  }
  return shares;
}

/**
 * Loopback source addresses for one worker: 127.<w+1>.<a/250>.<1+a%250>, disjoint between workers and never
 * 127.0.0.1 (where targets listen), enough that no address needs more than CONNECTIONS_PER_SOURCE_ADDRESS ports.
 */
export function sourceAddresses(workerIndex: number, connections: number): string[] {
  if (workerIndex > 250) throw new Error("at most 251 workers");
  const count = Math.max(1, Math.ceil(connections / CONNECTIONS_PER_SOURCE_ADDRESS));
  const addresses: string[] = [];
  for (let a = 0; a < count; a++)
    addresses.push(`127.${workerIndex + 1}.${Math.floor(a / 250)}.${1 + (a % 250)}`);
  return addresses;
}

/** How many connections should have been started `elapsedMs` into a linear ramp. */
export function rampTarget(total: number, rampSeconds: number, elapsedMs: number): number {
  if (rampSeconds <= 0) return total;
  return Math.min(total, Math.ceil((total * elapsedMs) / (rampSeconds * 1000)));
}

export function channelNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

export interface OffsetStep {
  /** The offset to remember as the last one seen. */
  last: number;
  lost: number;
  duplicated: number;
}

/** One message's offset against the last one this subscriber saw on the channel (offsets start after `last`). */
export function observeOffset(last: number, offset: number): OffsetStep {
  if (offset <= last) return { last, lost: 0, duplicated: 1 };
  return { last: offset, lost: offset - last - 1, duplicated: 0 };
}

/** Messages published up to `finalOffset` that a subscriber at `last` never got. */
export function tailLoss(last: number, finalOffset: number | undefined): number {
  return finalOffset === undefined ? 0 : Math.max(0, finalOffset - last);
}

/**
 * How load workers reconnect after an unplanned close: the client SDK's full jitter (client/src/backoff.ts), on a
 * shorter window than the SDK's default so a test's crowd comes back within seconds.
 */
export const LOAD_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 5_000 };

/** The nearest-rank quantile of a sorted list (for reconnect times, where a histogram would blur seconds). */
export function quantileSorted(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
