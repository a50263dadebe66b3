// A controller work queue: keys, not events. A key is queued at most once (dedup), processed by one worker at a
// time (a key added while it is being processed runs once more afterwards), and a failed key is retried after an
// exponential backoff per key, and never sooner than a token bucket shared by all keys allows (client-go's default
// controller rate limiter, retry-rate-limit.ts), so neither a broken object nor a failing API server becomes a hot loop.
import type { BackoffPolicy } from "./backoff.js";
import { type RetryBucketSpec, RetryRateLimiter } from "./retry-rate-limit.js";

export type ProcessResult = { requeueAfterMs?: number } | undefined;

export interface WorkQueueOptions {
  process: (key: string) => Promise<ProcessResult>;
  concurrency?: number;
  backoff?: BackoffPolicy;
  /** The overall retry rate (default 10 qps, burst 100). */
  rateLimit?: RetryBucketSpec;
  /** The rate limiter's clock in ms (tests). */
  now?: () => number;
  onResult?: (key: string, outcome: "success" | "error", durationMs: number, err?: unknown) => void;
  onDepth?: (depth: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private started = false;
  private idle: (() => void)[] = [];
  private readonly retries: RetryRateLimiter;

  constructor(private readonly o: WorkQueueOptions) {
    this.retries = new RetryRateLimiter({
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(o.rateLimit ? { retryBucket: o.rateLimit } : {}),
      ...(o.now ? { now: o.now } : {}),
    });
  }

  get depth(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.o.onDepth?.(this.queue.length);
    this.pump();
  }

  /** Starts the workers; keys added before are kept (controllers start after their caches synced). */
  start(): void {
    this.started = true;
    this.pump();
  }

  /** Adds `key` after `ms` (an earlier pending timer for the key wins). */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, t);
  }

  /** Stops taking work; resolves when the keys in flight are done. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    if (this.active > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 4;
    while (this.started && !this.stopped && this.active < limit) {
      const i = this.queue.findIndex((k) => !this.processing.has(k));
      if (i < 0) return;
      const [key] = this.queue.splice(i, 1) as [string];
      this.queued.delete(key);
      this.o.onDepth?.(this.queue.length);
      this.active++;
      this.processing.add(key);
      void this.work(key);
    }
  }

  private async work(key: string): Promise<void> {
    const started = performance.now();
    try {
      const result = await this.o.process(key);
      this.failures.delete(key);
      this.o.onResult?.(key, "success", performance.now() - started);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      this.o.onResult?.(key, "error", performance.now() - started, err);
      // Only the backoff brings a failed key back: events caused by the failure itself must not.
      this.dirty.delete(key);
      this.addAfter(key, this.retries.when(n));
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      if (this.active === 0) for (const r of this.idle.splice(0)) r();
      this.pump();
    }
  }
}
