import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { drainSchedule, pickForShed, reconnectJitterMs } from "../../src/drain.js";

/** A seeded PRNG (mulberry32) so the statistics below are deterministic. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("drain schedule", () => {
  const targets = Array.from({ length: 10_000 }, (_, i) => i);
  const plan = drainSchedule({ targets, windowMs: 30_000, maxAfterMs: 5000, rng: rng(1) });

  it("plans every target exactly once, sorted by close time", () => {
    assert.equal(plan.length, targets.length);
    assert.equal(new Set(plan.map((p) => p.target)).size, targets.length);
    for (let i = 1; i < plan.length; i++)
      assert.ok((plan[i]?.closeAtMs ?? 0) >= (plan[i - 1]?.closeAtMs ?? 0));
  });

  it("spreads closes uniformly over the window (no second holds more than ~2x its share)", () => {
    const perSecond = new Array(30).fill(0);
    for (const p of plan) {
      assert.ok(p.closeAtMs >= 0 && p.closeAtMs < 30_000);
      perSecond[Math.floor(p.closeAtMs / 1000)]++;
    }
    const share = targets.length / 30;
    for (const n of perSecond) assert.ok(n > share * 0.7 && n < share * 1.3, `bucket ${n} vs share ${share}`);
  });

  it("gives each connection its own reconnect jitter within the bound", () => {
    const afters = plan.map((p) => p.afterMs);
    assert.ok(afters.every((a) => a >= 0 && a < 5000 && Number.isInteger(a)));
    assert.ok(new Set(afters).size > 3000, "afterMs values should be spread, not shared");
    const mean = afters.reduce((a, b) => a + b, 0) / afters.length;
    assert.ok(Math.abs(mean - 2500) < 150, `mean ${mean}`);
  });

  it("a zero window closes everything at once", () => {
    const p = drainSchedule({ targets: [1, 2, 3], windowMs: 0, maxAfterMs: 1000, rng: rng(2) });
    assert.deepEqual(
      p.map((e) => e.closeAtMs),
      [0, 0, 0],
    );
  });

  it("reconnect jitter: at least 1 s, at most 5 s, never more than the window", () => {
    assert.equal(reconnectJitterMs(0), 1000);
    assert.equal(reconnectJitterMs(3000), 3000);
    assert.equal(reconnectJitterMs(30_000), 5000);
  });
});

describe("shed pick", () => {
  it("moves the newest connections first (candidates in open order), at most `count`", () => {
    const c = [10, 50, 30, 20, 40].map((openedAt) => ({ openedAt }));
    assert.deepEqual(
      pickForShed(c, 2).map((x) => x.openedAt),
      [50, 40],
    );
    assert.equal(pickForShed(c, 0).length, 0);
    // Same millisecond: the one that came later (later in the list) is newer.
    const tied = [
      { openedAt: 5, n: 1 },
      { openedAt: 5, n: 2 },
      { openedAt: 5, n: 3 },
    ];
    assert.deepEqual(
      pickForShed(tied, 2).map((x) => x.n),
      [3, 2],
    );
    assert.equal(pickForShed(c, 99).length, 5);
  });
});
