// Reconnect delays: exponential backoff with full jitter (uniform in [0, min(cap, base * 2^attempt)]).
// Full jitter spreads a crowd of clients that lost the same pod over the whole window instead of
// letting them return in synchronized waves.

export interface BackoffPolicy {
  /** Ceiling of the first retry's window, in ms. */
  baseMs: number;
  /** The window never grows past this, in ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;

export function assertBackoffPolicy(policy: BackoffPolicy): void {
  if (!Number.isFinite(policy.baseMs) || policy.baseMs <= 0) {
    throw new RangeError(`backoff.baseMs must be a positive number of ms, got ${policy.baseMs}`);
  }
  if (!Number.isFinite(policy.maxMs) || policy.maxMs < policy.baseMs) {
    throw new RangeError(`backoff.maxMs must be a number of ms >= baseMs, got ${policy.maxMs}`);
  }
}

/** The upper bound of the window for a 0-based attempt: min(maxMs, baseMs * 2^attempt). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  // 2^1024 is Infinity; min() still yields maxMs, but keep the exponent sane anyway.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 1000);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}

/** One delay for a 0-based attempt: uniform in [0, ceiling], whole ms. */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: RandomSource = Math.random,
): number {
  const ceiling = backoffCeiling(attempt, policy);
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
}

/** Counts failed attempts; the client resets it once a connection has stayed up long enough. */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly random: RandomSource = Math.random,
  ) {
    assertBackoffPolicy(policy);
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call widens the window for the one after. */
  next(): number {
    const delay = backoffDelay(this.#attempt, this.policy, this.random);
    this.#attempt += 1;
    return delay;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
