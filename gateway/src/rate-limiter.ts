// The connections' rate-limit state (rate-limit.ts decides), kept only for connections that used an operation
// lately: a sweep forgets state that decides like fresh state and that of closed connections, so an idle socket
// holds nothing for its limits (most sockets subscribe once, then only listen).
import {
  type Admission,
  admit,
  type BucketPolicy,
  isIdle,
  type LimitedOperation,
  type LimitState,
  newLimitState,
} from "./rate-limit.js";

export interface RateLimiterOptions {
  policies: Record<LimitedOperation, BucketPolicy>;
  /** Refusals in a row of one operation that make it abuse. */
  strikes: number;
  now: () => number;
  /** How often idle and closed connections' state is forgotten (1 s unless told). */
  sweepMs?: number;
}

export class RateLimiter<C extends { closed: boolean }> {
  private states = new Map<C, LimitState>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly o: RateLimiterOptions) {
    this.timer = setInterval(() => this.sweep(o.now()), o.sweepMs ?? 1_000);
    this.timer.unref();
  }

  /** One operation of `conn` now; see rate-limit.ts admit. */
  admit(conn: C, op: LimitedOperation): Admission {
    let state = this.states.get(conn);
    if (!state) {
      state = newLimitState();
      this.states.set(conn, state);
    }
    return admit(state, op, this.o.policies[op], this.o.strikes, this.o.now());
  }

  /** Forget the state of closed connections and state that decides like fresh state. */
  sweep(nowMs: number): void {
    const before = this.states.size;
    for (const [conn, state] of this.states)
      if (conn.closed || isIdle(state, nowMs)) this.states.delete(conn);
    // A Map keeps its table's size after deletes: after a burst of connects, copy the few left to a small one.
    if (this.states.size < before / 4) this.states = new Map(this.states);
  }

  /** Connections with state kept. */
  get size(): number {
    return this.states.size;
  }

  stop(): void {
    clearInterval(this.timer);
    this.states.clear();
  }
}
