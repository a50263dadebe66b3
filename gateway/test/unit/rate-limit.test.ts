import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  admit,
  type BucketPolicy,
  gcra,
  isIdle,
  type LimitState,
  newLimitState,
} from "../../src/rate-limit.js";
import { RateLimiter } from "../../src/rate-limiter.js";

/** One operation's limit as a stateful taker over the pure GCRA step (what admit does per operation). */
function limiter(policy: BucketPolicy) {
  let tat = Number.NEGATIVE_INFINITY;
  return (nowMs: number) => {
    const step = gcra(tat, nowMs, policy);
    tat = step.tat;
    return step.allowed;
  };
}

/** The reference model: a token bucket of `burst` tokens refilled at `rate` per second (the limiter before GCRA). */
function tokenBucket(policy: BucketPolicy) {
  let tokens = policy.burst;
  let at = Number.NEGATIVE_INFINITY;
  return {
    take(nowMs: number): boolean {
      const elapsed = at === Number.NEGATIVE_INFINITY ? 0 : Math.max(0, nowMs - at);
      tokens = Math.min(policy.burst, tokens + (elapsed * policy.rate) / 1000);
      at = Math.max(at, nowMs);
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    tokens: () => tokens,
  };
}

describe("GCRA (the token bucket from one number)", () => {
  const policy = { rate: 10, burst: 3 };
  it("allows the burst, then refuses", () => {
    const take = limiter(policy);
    assert.deepEqual([take(0), take(0), take(0), take(0)], [true, true, true, false]);
  });
  it("refills at the rate (one token per 100 ms at 10/s)", () => {
    const take = limiter(policy);
    for (let i = 0; i < 3; i++) take(0);
    assert.equal(take(50), false);
    assert.equal(take(100), true);
    assert.equal(take(150), false);
    assert.equal(take(250), true);
  });
  it("never holds more than the burst after a long quiet period", () => {
    const take = limiter(policy);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (take(1_000_000)) allowed++;
    assert.equal(allowed, 3);
  });
  it("a clock going backwards adds nothing", () => {
    const take = limiter(policy);
    for (let i = 0; i < 3; i++) take(1000);
    assert.equal(take(0), false);
  });
  it("sustained over-rate traffic gets about `rate` per second through", () => {
    const take = limiter(policy);
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 10) if (take(t)) allowed++; // 100/s offered for 10 s
    assert.ok(allowed >= 100 && allowed <= 104, `allowed ${allowed}`);
  });
  const cases: [string, number, number, BucketPolicy, boolean, number][] = [
    // name, tat, now, policy, allowed, new tat
    ["never used", Number.NEGATIVE_INFINITY, 500, { rate: 10, burst: 3 }, true, 600],
    ["behind the clock: as fresh", 100, 500, { rate: 10, burst: 3 }, true, 600],
    ["ahead by less than burst - 1 intervals", 650, 500, { rate: 10, burst: 3 }, true, 750],
    ["ahead by exactly burst - 1 intervals", 700, 500, { rate: 10, burst: 3 }, true, 800],
    ["ahead by more: refused, TAT kept", 701, 500, { rate: 10, burst: 3 }, false, 701],
    ["burst 1: only when the TAT has passed", 501, 500, { rate: 2, burst: 1 }, false, 501],
    ["burst 1 at the TAT", 500, 500, { rate: 2, burst: 1 }, true, 1000],
  ];
  for (const [name, tat, now, p, allowed, next] of cases)
    it(name, () => assert.deepEqual(gcra(tat, now, p), { allowed, tat: next }));

  it("admits exactly what the token bucket admits (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          rate: fc.constantFrom(0.1, 0.2, 1, 2, 3, 7, 10, 20, 50, 1000),
          burst: fc.integer({ min: 1, max: 20 }),
        }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { maxLength: 200 }),
        (policy, gaps) => {
          const take = limiter(policy);
          const model = tokenBucket(policy);
          let now = 1_000_000;
          for (const gap of gaps) {
            now += gap;
            const before = model.tokens();
            const expected = model.take(now);
            const got = take(now);
            // The bucket sums fractions of tokens; where it lands within rounding of a whole token the two
            // may round either way. Nowhere else may they differ.
            if (got !== expected) {
              const tokens = Math.min(policy.burst, before + (gap * policy.rate) / 1000);
              return Math.abs(tokens - Math.round(tokens)) < 1e-6;
            }
          }
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("admit: one limit per operation, strikes per operation", () => {
  const policy = { rate: 1, burst: 2 };
  it("operations do not share a limit", () => {
    const state = newLimitState();
    assert.deepEqual(
      [admit(state, "subscribe", policy, 3, 0), admit(state, "subscribe", policy, 3, 0)],
      ["allowed", "allowed"],
    );
    assert.equal(admit(state, "subscribe", policy, 3, 0), "limited");
    assert.equal(admit(state, "presence", policy, 3, 0), "allowed", "presence has its own limit");
  });
  it("refused `strikes` times in a row is abuse; an allowed take resets the count", () => {
    const state = newLimitState();
    admit(state, "presence", policy, 3, 0);
    admit(state, "presence", policy, 3, 0);
    assert.deepEqual(
      [admit(state, "presence", policy, 3, 0), admit(state, "presence", policy, 3, 0)],
      ["limited", "limited"],
    );
    assert.equal(admit(state, "presence", policy, 3, 1000), "allowed", "refilled: strikes reset");
    assert.deepEqual(
      [1, 2, 3].map(() => admit(state, "presence", policy, 3, 1000)),
      ["limited", "limited", "abuse"],
    );
    // Another operation's allowed takes do not wash this one's strikes away.
    const s2 = newLimitState();
    for (let i = 0; i < 2; i++) admit(s2, "history", policy, 2, 0);
    assert.equal(admit(s2, "history", policy, 2, 0), "limited");
    assert.equal(admit(s2, "publish", policy, 2, 0), "allowed");
    assert.equal(admit(s2, "history", policy, 2, 0), "abuse");
  });
  it("idle once every TAT is at or behind the clock: then it decides like fresh state", () => {
    const state: LimitState = newLimitState();
    assert.equal(isIdle(state, 0), true);
    admit(state, "subscribe", policy, 3, 0); // TAT 1000
    admit(state, "refresh", policy, 3, 500); // TAT 1500
    assert.equal(isIdle(state, 999), false);
    assert.equal(isIdle(state, 1499), false);
    assert.equal(isIdle(state, 1500), true);
    // Past the strikes' count too: the next attempt is allowed, as on fresh state.
    const struck = newLimitState();
    for (let i = 0; i < 4; i++) admit(struck, "publish", policy, 9, 0);
    assert.equal(isIdle(struck, 2000), true);
    assert.equal(
      admit(struck, "publish", policy, 3, 2000),
      admit(newLimitState(), "publish", policy, 3, 2000),
    );
  });
});

describe("RateLimiter: state only while a connection uses it", () => {
  const policies = {
    publish: { rate: 1, burst: 2 },
    subscribe: { rate: 10, burst: 2 },
    unsubscribe: { rate: 1, burst: 1 },
    presence: { rate: 1, burst: 1 },
    history: { rate: 1, burst: 1 },
    refresh: { rate: 1, burst: 1 },
  };
  it("a sweep forgets idle and closed connections' state, and keeps the rest deciding as before", () => {
    let now = 0;
    const limits = new RateLimiter<{ closed: boolean }>({ policies, strikes: 3, now: () => now });
    try {
      const [idle, busy, gone] = [{ closed: false }, { closed: false }, { closed: false }];
      assert.equal(limits.admit(idle, "subscribe"), "allowed"); // TAT 100
      assert.deepEqual(
        [limits.admit(busy, "publish"), limits.admit(busy, "publish"), limits.admit(busy, "publish")],
        ["allowed", "allowed", "limited"],
      );
      limits.admit(gone, "publish");
      gone.closed = true;
      assert.equal(limits.size, 3);
      now = 500;
      limits.sweep(now);
      assert.equal(limits.size, 1, "only the busy one is kept");
      // Its strike is still counted: two more refusals make abuse.
      assert.deepEqual([limits.admit(busy, "publish"), limits.admit(busy, "publish")], ["limited", "abuse"]);
    } finally {
      limits.stop();
    }
  });
});
