// Per-connection token buckets, one per client operation. Pure: time comes in as an argument, state lives in tiny
// objects created on an operation's first use (most sockets never publish or ask for presence).

export interface TokenBucket {
  tokens: number;
  /** ms timestamp of the last refill. */
  at: number;
  /** Refusals in a row; reset by an allowed take. */
  strikes: number;
}

export interface BucketPolicy {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size (the burst allowed after a quiet period). */
  burst: number;
}

export function newBucket(policy: BucketPolicy, nowMs: number): TokenBucket {
  return { tokens: policy.burst, at: nowMs, strikes: 0 };
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

/** Every client operation with its own bucket; `history` is a subscribe with `since` (a replay from history). */
export const LIMITED_OPERATIONS = [
  "publish",
  "subscribe",
  "unsubscribe",
  "presence",
  "history",
  "refresh",
] as const;
export type LimitedOperation = (typeof LIMITED_OPERATIONS)[number];
export type Buckets = Partial<Record<LimitedOperation, TokenBucket>>;
export type Admission = "allowed" | "limited" | "abuse";

/**
 * One operation's admission: take from its bucket (created on first use); refused `strikes` times in a row is
 * abuse (the caller closes the socket). Mutates `buckets`.
 */
export function admit(
  buckets: Buckets,
  op: LimitedOperation,
  policy: BucketPolicy,
  strikes: number,
  nowMs: number,
): Admission {
  let bucket = buckets[op];
  if (!bucket) {
    bucket = newBucket(policy, nowMs);
    buckets[op] = bucket;
  }
  if (take(bucket, policy, nowMs)) {
    bucket.strikes = 0;
    return "allowed";
  }
  bucket.strikes += 1;
  return bucket.strikes >= strikes ? "abuse" : "limited";
}
