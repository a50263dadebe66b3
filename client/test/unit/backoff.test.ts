import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertBackoffPolicy,
  Backoff,
  type BackoffPolicy,
  backoffCeiling,
  backoffDelay,
} from "../../src/backoff.js";

/** A seeded PRNG (mulberry32) so the distribution checks are exact and repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Does a sample of delays cover [0, ceiling] roughly uniformly? Returns the reasons it does not. */
function spreadProblems(samples: readonly number[], ceiling: number): string[] {
  const problems: string[] = [];
  const buckets = new Array<number>(10).fill(0);
  for (const s of samples) buckets[Math.min(9, Math.floor((s / ceiling) * 10))]! += 1;
  const expected = samples.length / 10;
  buckets.forEach((count, i) => {
    if (Math.abs(count - expected) > expected * 0.2)
      problems.push(`bucket ${i} holds ${count}, expected ~${expected}`);
  });
  if (Math.min(...samples) > ceiling * 0.02) problems.push("nothing near 0");
  if (Math.max(...samples) < ceiling * 0.98) problems.push("nothing near the ceiling");
  if (new Set(samples).size < Math.min(samples.length / 10, ceiling / 2))
    problems.push("too few distinct delays");
  return problems;
}

const policy: BackoffPolicy = { baseMs: 100, maxMs: 10_000 };

describe("backoff ceiling", () => {
  const table: Array<[attempt: number, ceiling: number]> = [
    [0, 100],
    [1, 200],
    [2, 400],
    [6, 6_400],
    [7, 10_000],
    [50, 10_000],
    [5_000, 10_000],
  ];
  for (const [attempt, ceiling] of table) {
    it(`attempt ${attempt} → ${ceiling} ms`, () => assert.equal(backoffCeiling(attempt, policy), ceiling));
  }
});

describe("backoff delay bounds", () => {
  const table: Array<[random: number, attempt: number, delay: number]> = [
    [0, 0, 0],
    [0, 9, 0],
    [0.5, 0, 50],
    [0.5, 3, 400],
    [0.999_999_999, 0, 100],
    [0.999_999_999, 9, 10_000],
  ];
  for (const [r, attempt, delay] of table) {
    it(`random ${r}, attempt ${attempt} → ${delay} ms`, () =>
      assert.equal(
        backoffDelay(attempt, policy, () => r),
        delay,
      ));
  }

  it("stays inside [0, min(cap, base*2^attempt)] for every attempt and seed", () => {
    const random = seeded(7);
    for (let attempt = 0; attempt < 40; attempt++) {
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, policy, random);
        assert.ok(
          Number.isInteger(d) && d >= 0 && d <= backoffCeiling(attempt, policy),
          `attempt ${attempt}: ${d}`,
        );
        assert.ok(d <= policy.maxMs);
      }
    }
  });
});

describe("full jitter", () => {
  it("spreads delays uniformly over the whole capped window (fails without jitter)", () => {
    const random = seeded(42);
    const samples = Array.from({ length: 10_000 }, () => backoffDelay(20, policy, random));
    assert.deepEqual(spreadProblems(samples, policy.maxMs), []);
  });

  it("spreads each early window too, not only the capped one", () => {
    const random = seeded(3);
    for (const attempt of [2, 4, 6]) {
      const samples = Array.from({ length: 5_000 }, () => backoffDelay(attempt, policy, random));
      assert.deepEqual(spreadProblems(samples, backoffCeiling(attempt, policy)), [], `attempt ${attempt}`);
    }
  });

  it("the spread check rejects plain exponential backoff and 'equal jitter'", () => {
    const noJitter = Array.from({ length: 1_000 }, () => policy.maxMs);
    assert.notDeepEqual(spreadProblems(noJitter, policy.maxMs), []);
    const random = seeded(1);
    const equalJitter = Array.from({ length: 1_000 }, () => policy.maxMs / 2 + random() * (policy.maxMs / 2));
    assert.notDeepEqual(spreadProblems(equalJitter, policy.maxMs), []);
  });

  it("uses Math.random by default: two clients do not retry in lockstep", () => {
    const a = Array.from({ length: 200 }, () => backoffDelay(10, policy));
    assert.ok(new Set(a).size > 150, `only ${new Set(a).size} distinct delays`);
  });
});

describe("Backoff", () => {
  it("widens the window per attempt and starts over after reset", () => {
    const backoff = new Backoff(policy, () => 0.999_999_999);
    assert.deepEqual(
      Array.from({ length: 9 }, () => backoff.next()),
      [100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000],
    );
    assert.equal(backoff.attempt, 9);
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 100);
  });

  it("rejects a policy that cannot work", () => {
    for (const bad of [
      { baseMs: 0, maxMs: 100 },
      { baseMs: -1, maxMs: 100 },
      { baseMs: 100, maxMs: 50 },
      { baseMs: Number.NaN, maxMs: 100 },
    ]) {
      assert.throws(() => assertBackoffPolicy(bad), RangeError, JSON.stringify(bad));
    }
  });
});
