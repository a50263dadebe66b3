// Per-connection publish token bucket. Pure: time comes in as an argument, state lives in a tiny object.

export interface TokenBucket {
  tokens: number;
  /** ms timestamp of the last refill. */
  at: number;
}

export interface BucketPolicy {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size (the burst allowed after a quiet period). */
  burst: number;
}

export function newBucket(policy: BucketPolicy, nowMs: number): TokenBucket {
  return { tokens: policy.burst, at: nowMs };
}

/** Refill for the time passed, then take one token if there is one. Mutates `bucket`; returns whether allowed. */
export function take(bucket: TokenBucket, policy: BucketPolicy, nowMs: number): boolean {
  const elapsed = Math.max(0, nowMs - bucket.at);
  bucket.tokens = Math.min(policy.burst, bucket.tokens + (elapsed * policy.rate) / 1000);
  bucket.at = nowMs;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}
