// Per-connection rate limits, one per client operation, as GCRA (the generic cell rate algorithm): the token
// bucket's decisions from one number per operation, its theoretical arrival time (TAT). Pure: time comes in as
// an argument. A TAT not ahead of the clock is a full bucket, so state that old can be dropped (rate-limits.ts).

export interface BucketPolicy {
  /** Operations allowed per second, sustained. */
  rate: number;
  /** How many may come at once after a quiet period (the token bucket's size); at least 1. */
  burst: number;
}

/**
 * One GCRA step. `tat` is when the bucket would be full again (-Infinity: never used). The operation fits when
 * `tat` is at most (burst - 1) emission intervals ahead of `nowMs`; then the TAT moves one interval on from
 * max(tat, now). Equivalent to a token bucket of `burst` tokens refilled at `rate`/s: its tokens are
 * burst - (tat - now) / interval. A clock going backwards adds nothing (the TAT stays where it was).
 */
export function gcra(tat: number, nowMs: number, policy: BucketPolicy): { allowed: boolean; tat: number } {
  const interval = 1000 / policy.rate;
  if (tat - nowMs > (policy.burst - 1) * interval) return { allowed: false, tat };
  return { allowed: true, tat: Math.max(tat, nowMs) + interval };
}

/** Every client operation with its own limit; `history` is a subscribe with `since` (a replay from history). */
export const LIMITED_OPERATIONS = [
  "publish",
  "subscribe",
  "unsubscribe",
  "presence",
  "history",
  "refresh",
] as const;
export type LimitedOperation = (typeof LIMITED_OPERATIONS)[number];
export type Admission = "allowed" | "limited" | "abuse";

const SLOT = Object.fromEntries(LIMITED_OPERATIONS.map((op, i) => [op, i])) as Record<
  LimitedOperation,
  number
>;

/**
 * One connection's limits, packed: per operation (in LIMITED_OPERATIONS order) its TAT, then its refusals in a
 * row. A plain array of doubles (V8 stores them unboxed): one allocation for every operation.
 */
export type LimitState = number[];

const FRESH: LimitState = LIMITED_OPERATIONS.flatMap(() => [Number.NEGATIVE_INFINITY, 0]);

export function newLimitState(): LimitState {
  // A copy keeps the template's exact length and its double elements.
  return FRESH.slice();
}

/**
 * One operation's admission; refused `strikes` times in a row is abuse (the caller closes the socket). An
 * allowed one resets that operation's count. Mutates `state`.
 */
export function admit(
  state: LimitState,
  op: LimitedOperation,
  policy: BucketPolicy,
  strikes: number,
  nowMs: number,
): Admission {
  const at = 2 * SLOT[op];
  const step = gcra(state[at] as number, nowMs, policy);
  if (step.allowed) {
    state[at] = step.tat;
    state[at + 1] = 0;
    return "allowed";
  }
  const refused = (state[at + 1] as number) + 1;
  state[at + 1] = refused;
  return refused >= strikes ? "abuse" : "limited";
}

/**
 * Whether `state` decides like a fresh one: every TAT at or behind the clock, so each operation's next attempt is
 * allowed (burst ≥ 1) and resets its strikes. Such state can be forgotten.
 */
export function isIdle(state: LimitState, nowMs: number): boolean {
  for (let at = 0; at < state.length; at += 2) if ((state[at] as number) > nowMs) return false;
  return true;
}
