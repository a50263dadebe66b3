// The work queue's retry rate limiter (client-go's DefaultControllerRateLimiter): the max of a per-key exponential
// backoff and a token bucket shared by every key. Time is an argument or an injected clock: no test waits.
import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import {
  DEFAULT_RETRY_BUCKET,
  fullRetryBucket,
  type RetryBucket,
  type RetryBucketSpec,
  RetryRateLimiter,
  reserveRetry,
  retryDelay,
} from "../../src/runtime/retry-rate-limit.js";
import { WorkQueue } from "../../src/runtime/work-queue.js";

/** Reserves one token at each time in `at`, from a full bucket at t=0; returns the delays. */
function delays(spec: RetryBucketSpec, at: number[]): number[] {
  let bucket: RetryBucket = fullRetryBucket(spec, 0);
  return at.map((t) => {
    const r = reserveRetry(bucket, spec, t);
    bucket = r.bucket;
    return r.delayMs;
  });
}

describe("token bucket (reserve, as golang.org/x/time/rate)", () => {
  const cases: { name: string; spec: RetryBucketSpec; at: number[]; want: number[] }[] = [
    {
      name: "a full bucket lets a burst through",
      spec: { qps: 10, burst: 3 },
      at: [0, 0, 0],
      want: [0, 0, 0],
    },
    {
      name: "past the burst, each reservation waits one more interval",
      spec: { qps: 10, burst: 3 },
      at: [0, 0, 0, 0, 0, 0],
      want: [0, 0, 0, 100, 200, 300],
    },
    {
      name: "tokens come back at qps",
      spec: { qps: 10, burst: 1 },
      at: [0, 100, 200, 250],
      want: [0, 0, 0, 50],
    },
    {
      name: "the refill is capped at burst",
      spec: { qps: 10, burst: 2 },
      at: [0, 0, 60_000, 60_000, 60_000],
      want: [0, 0, 0, 0, 100],
    },
    {
      name: "reservations into the future are paid back before new tokens count",
      spec: { qps: 1, burst: 1 },
      at: [0, 0, 0, 1000],
      want: [0, 1000, 2000, 2000],
    },
    {
      name: "a clock that steps back refills nothing",
      spec: { qps: 10, burst: 1 },
      at: [1000, 500, 1100],
      want: [0, 100, 100],
    },
    {
      name: "client-go's default: 100 at once, then 10 a second",
      spec: DEFAULT_RETRY_BUCKET,
      at: Array.from({ length: 103 }, () => 0),
      want: [...Array.from({ length: 100 }, () => 0), 100, 200, 300],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(delays(c.spec, c.at), c.want);
    });
  }
});

describe("retry delay: max of per-key backoff and the shared bucket", () => {
  const backoff = { baseMs: 200, maxMs: 60_000 };
  const noJitter = () => 1; // backoffDelay's ceiling
  const cases: {
    name: string;
    attempt: number;
    bucket: RetryBucket;
    spec: RetryBucketSpec;
    want: number;
  }[] = [
    {
      name: "bucket has tokens: the key's backoff",
      attempt: 1,
      bucket: { tokens: 5, atMs: 0 },
      spec: DEFAULT_RETRY_BUCKET,
      want: 200,
    },
    {
      name: "backoff grows per attempt",
      attempt: 4,
      bucket: { tokens: 5, atMs: 0 },
      spec: DEFAULT_RETRY_BUCKET,
      want: 1600,
    },
    {
      name: "backoff is capped",
      attempt: 40,
      bucket: { tokens: 5, atMs: 0 },
      spec: DEFAULT_RETRY_BUCKET,
      want: 60_000,
    },
    {
      name: "bucket empty: its wait when longer than the backoff",
      attempt: 1,
      bucket: { tokens: -9, atMs: 0 },
      spec: DEFAULT_RETRY_BUCKET,
      want: 1000,
    },
    {
      name: "bucket empty but the backoff is longer: the backoff",
      attempt: 5,
      bucket: { tokens: -9, atMs: 0 },
      spec: DEFAULT_RETRY_BUCKET,
      want: 3200,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = retryDelay({
        attempt: c.attempt,
        bucket: c.bucket,
        nowMs: 0,
        backoff,
        retryBucket: c.spec,
        random: noJitter,
      });
      assert.equal(r.delayMs, c.want);
      assert.equal(r.bucket.tokens, c.bucket.tokens - 1, "every retry takes a token");
    });
  }
});

describe("RetryRateLimiter (injected clock)", () => {
  it("200 keys failing at once: the first 100 retry on their backoff, the rest are spread at 10 a second", () => {
    let now = 5_000;
    const limiter = new RetryRateLimiter({
      now: () => now,
      random: () => 0,
      backoff: { baseMs: 10, maxMs: 1000 },
    });
    const first = Array.from({ length: 200 }, () => limiter.when(1));
    assert.deepEqual(
      first.slice(0, 100),
      Array.from({ length: 100 }, () => 5),
    ); // backoff/2 with random 0
    assert.deepEqual(first.slice(100, 103), [100, 200, 300], "past the burst each waits one more token");
    assert.equal(first[199], 10_000);
    // Ten seconds later the debt is paid; the bucket refills from there at 10/s.
    now += 10_000;
    assert.equal(limiter.when(1), 100);
    now += 60_000;
    assert.equal(limiter.when(1), 5, "refilled");
  });

  it("configurable: qps 2, burst 1", () => {
    const now = 0;
    const limiter = new RetryRateLimiter({
      now: () => now,
      random: () => 0,
      backoff: { baseMs: 2, maxMs: 2 },
      retryBucket: { qps: 2, burst: 1 },
    });
    assert.deepEqual([limiter.when(1), limiter.when(1), limiter.when(1)], [1, 500, 1000]);
  });

  it("rejects a bucket that would never refill", () => {
    for (const retryBucket of [
      { qps: 0, burst: 10 },
      { qps: 10, burst: 0 },
      { qps: Number.NaN, burst: 1 },
    ]) {
      assert.throws(() => new RetryRateLimiter({ retryBucket }), /token bucket/);
    }
  });
});

describe("work queue retries go through the shared bucket", () => {
  it("with burst 2, the third failing key waits for a token though its own backoff is 1 ms", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    let now = 0;
    const runs: string[] = [];
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 1, maxMs: 1 },
      rateLimit: { qps: 1, burst: 2 },
      now: () => now,
      process: async (key) => {
        runs.push(key);
        throw new Error("always fails");
      },
    });
    const flush = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    try {
      q.start();
      for (const k of ["a", "b", "c"]) q.add(k);
      await flush();
      assert.deepEqual(runs, ["a", "b", "c"]);
      // a and b took the two tokens (retry after their 1 ms backoff); c reserved a token 1 s ahead.
      now += 5;
      mock.timers.tick(5);
      await flush();
      assert.deepEqual(runs.slice(3).sort(), ["a", "b"]);
      now += 994;
      mock.timers.tick(994);
      await flush();
      assert.ok(!runs.slice(5).includes("c"), `c retried before its token: ${runs.join(",")}`);
      now += 10;
      mock.timers.tick(10);
      await flush();
      assert.ok(runs.slice(5).includes("c"), `c retried once its token came: ${runs.join(",")}`);
    } finally {
      await q.shutdown();
      mock.timers.reset();
    }
  });
});
