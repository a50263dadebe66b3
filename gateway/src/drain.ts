// Drain: who closes when. The schedule is pure (rng in, plan out); the shell in server.ts runs it.

export interface DrainPlanEntry<T> {
  target: T;
  /** ms after the drain starts when this connection gets its 1012 close. */
  closeAtMs: number;
  /** The `afterMs` in its reconnect frame: how long the client waits before reconnecting. */
  afterMs: number;
}

export interface DrainScheduleInput<T> {
  targets: readonly T[];
  /** The window over which closes spread (ms). */
  windowMs: number;
  /** Upper bound of the reconnect jitter a client is told to wait (ms). */
  maxAfterMs: number;
  /** Uniform [0, 1). */
  rng: () => number;
}

/**
 * Closes are stratified: the window is cut into one slot per connection and each connection, in random order,
 * closes at a uniform moment inside its own slot. Every stretch of the window then holds its share of closes
 * (within 2), where independent uniform times would bunch by chance (a third of 40 connections holds fewer than
 * 4 about once in 8,000 drains) and the other pods would see the bunches as accept bursts. Each connection is
 * also told to wait a uniform jitter in [0, maxAfterMs) before reconnecting. Sorted by close time, so the shell
 * can run it with one timer.
 */
export function drainSchedule<T>(input: DrainScheduleInput<T>): DrainPlanEntry<T>[] {
  const order = [...input.targets];
  // Fisher–Yates: which connection gets which slot must not follow connection age.
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(input.rng() * (i + 1));
    [order[i], order[j]] = [order[j] as T, order[i] as T];
  }
  const slotMs = order.length > 0 ? input.windowMs / order.length : 0;
  return order.map((target, i) => ({
    target,
    closeAtMs: Math.floor((i + input.rng()) * slotMs),
    afterMs: Math.floor(input.rng() * input.maxAfterMs),
  }));
}

/** Jitter bound for reconnects: a few seconds, but never more than the window itself (min 1 s). */
export function reconnectJitterMs(windowMs: number): number {
  return Math.max(1000, Math.min(5000, windowMs));
}

/**
 * Which connections a shed should move: the most recently opened first (they have the least state to lose,
 * and an old, long-lived connection is more likely a stable client on a good path).
 */
export function pickForShed<T extends { openedAt: number }>(candidates: readonly T[], count: number): T[] {
  if (count <= 0) return [];
  // Candidates come in open order; reversed first so that, among equal timestamps, the later one goes first.
  return [...candidates]
    .reverse()
    .sort((a, b) => b.openedAt - a.openedAt)
    .slice(0, count);
}

/** The shell: runs a schedule with one timer at a time, closing each target at its moment. */
export function runDrainSchedule<T>(
  plan: readonly DrainPlanEntry<T>[],
  close: (entry: DrainPlanEntry<T>) => void,
  onDone: () => void,
): { cancel(): void } {
  const start = Date.now();
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const elapsed = Date.now() - start;
    while (i < plan.length && (plan[i] as DrainPlanEntry<T>).closeAtMs <= elapsed)
      close(plan[i++] as DrainPlanEntry<T>);
    if (i >= plan.length) return onDone();
    timer = setTimeout(tick, (plan[i] as DrainPlanEntry<T>).closeAtMs - elapsed);
  };
  tick();
  return {
    cancel() {
      if (timer) clearTimeout(timer);
    },
  };
}
