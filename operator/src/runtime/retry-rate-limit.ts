// client-go's DefaultControllerRateLimiter for the work queue's retries: the max of a per-key exponential backoff
// (one broken object backs off on its own) and one token bucket over all keys (10 qps, burst 100), so a failing
// API server that makes every key fail at once gets at most `qps` retries a second, however many objects there are.
// Pure: the bucket is a value and time is an argument; RetryRateLimiter is the small stateful shell with a clock.
// A RetryBucket holds reservations of retry slots (x/time/rate's Reserve), not the gateway's per-socket limit.
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";

export interface RetryBucketSpec {
  /** Tokens added per second. */
  qps: number;
  /** Bucket size: how many retries may go at once before the rate applies. */
  burst: number;
}

export const DEFAULT_RETRY_BUCKET: RetryBucketSpec = { qps: 10, burst: 100 };

/** Tokens available at `atMs` (negative: reservations already made into the future). */
export interface RetryBucket {
  tokens: number;
  atMs: number;
}

export function fullRetryBucket(spec: RetryBucketSpec, nowMs: number): RetryBucket {
  return { tokens: spec.burst, atMs: nowMs };
}

/**
 * Reserves one token at `nowMs`, as golang.org/x/time/rate's Reserve().Delay(): the bucket refills at `qps` up to
 * `burst`; when it is empty the token is taken from the future and the caller waits until it would have arrived.
 */
export function reserveRetry(
  bucket: RetryBucket,
  spec: RetryBucketSpec,
  nowMs: number,
): { delayMs: number; bucket: RetryBucket } {
  const elapsedMs = Math.max(0, nowMs - bucket.atMs);
  const refilled = Math.min(spec.burst, bucket.tokens + (elapsedMs * spec.qps) / 1000);
  const tokens = refilled - 1;
  const delayMs = tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / spec.qps);
  return { delayMs, bucket: { tokens, atMs: Math.max(nowMs, bucket.atMs) } };
}

export interface RetryDelayInput {
  /** Consecutive failures of this key, 1-based. */
  attempt: number;
  bucket: RetryBucket;
  nowMs: number;
  backoff: BackoffPolicy;
  retryBucket: RetryBucketSpec;
  random?: () => number;
}

/** The delay before a failed key's retry: the larger of its own backoff and the shared bucket's wait. */
export function retryDelay(i: RetryDelayInput): { delayMs: number; bucket: RetryBucket } {
  const perKey = backoffDelay(i.attempt, i.backoff, i.random);
  const shared = reserveRetry(i.bucket, i.retryBucket, i.nowMs);
  return { delayMs: Math.max(perKey, shared.delayMs), bucket: shared.bucket };
}

export function validRetryBucket(spec: RetryBucketSpec): boolean {
  return Number.isFinite(spec.qps) && spec.qps > 0 && Number.isInteger(spec.burst) && spec.burst >= 1;
}

export interface RetryRateLimiterOptions {
  backoff?: BackoffPolicy;
  retryBucket?: RetryBucketSpec;
  now?: () => number;
  random?: () => number;
}

/** The shell the work queue holds: the bucket's state and a clock. */
export class RetryRateLimiter {
  private readonly backoff: BackoffPolicy;
  private readonly retryBucket: RetryBucketSpec;
  private readonly now: () => number;
  private readonly random: (() => number) | undefined;
  private bucket: RetryBucket;

  constructor(o: RetryRateLimiterOptions = {}) {
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.retryBucket = o.retryBucket ?? DEFAULT_RETRY_BUCKET;
    if (!validRetryBucket(this.retryBucket)) {
      throw new Error(
        `token bucket needs qps > 0 and an integer burst >= 1, got ${JSON.stringify(o.retryBucket)}`,
      );
    }
    this.now = o.now ?? (() => performance.now());
    this.random = o.random;
    this.bucket = fullRetryBucket(this.retryBucket, this.now());
  }

  /** The delay before retry number `attempt` of one key; takes a token from the shared bucket. */
  when(attempt: number): number {
    const r = retryDelay({
      attempt,
      bucket: this.bucket,
      nowMs: this.now(),
      backoff: this.backoff,
      retryBucket: this.retryBucket,
      ...(this.random ? { random: this.random } : {}),
    });
    this.bucket = r.bucket;
    return r.delayMs;
  }
}
