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
 * Each connection closes at a moment uniform in [0, windowMs) and is told to wait a uniform jitter in
 * [0, maxAfterMs) before reconnecting, so neither this pod's closes nor the other pods' accepts come in a burst.
 * Sorted by close time, so the shell can run it with one timer.
 */
export function drainSchedule<T>(input: DrainScheduleInput<T>): DrainPlanEntry<T>[] {
  const plan = input.targets.map((target) => ({
    target,
    closeAtMs: Math.floor(input.rng() * input.windowMs),
    afterMs: Math.floor(input.rng() * input.maxAfterMs),
  }));
  plan.sort((a, b) => a.closeAtMs - b.closeAtMs);
  return plan;
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
