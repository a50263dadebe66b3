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

  it("spreads closes evenly: every stretch of the window holds its share of closes, within 2", () => {
    for (const stretchMs of [100, 1000, 7000]) {
      const buckets = new Array(Math.ceil(30_000 / stretchMs)).fill(0);
      for (const p of plan) {
        assert.ok(p.closeAtMs >= 0 && p.closeAtMs < 30_000);
        buckets[Math.floor(p.closeAtMs / stretchMs)]++;
      }
      const share = (targets.length * stretchMs) / 30_000;
      for (const [i, n] of buckets.entries()) {
        const expected =
          i === buckets.length - 1 ? (targets.length * (30_000 - i * stretchMs)) / 30_000 : share;
        assert.ok(
          Math.abs(n - expected) <= 2,
          `${stretchMs} ms stretch #${i}: ${n} closes, share ${expected}`,
        );
      }
    }
  });

  it("even for a handful of connections, and whatever the rng: a third of the window never goes empty", () => {
    for (let seed = 0; seed < 200; seed++) {
      const p = drainSchedule({
        targets: [1, 2, 3, 4, 5, 6],
        windowMs: 3000,
        maxAfterMs: 1000,
        rng: rng(seed),
      });
      const thirds: number[] = [0, 0, 0];
      for (const e of p) {
        const i = Math.floor(e.closeAtMs / 1000);
        thirds[i] = (thirds[i] ?? 0) + 1;
      }
      assert.deepEqual(thirds, [2, 2, 2], `seed ${seed}`);
    }
  });

  it("does not close in connection order: slots go to connections at random", () => {
    const firstTenth = plan.slice(0, 1000).map((p) => p.target);
    const mean = firstTenth.reduce((a, b) => a + b, 0) / firstTenth.length;
    assert.ok(Math.abs(mean - 5000) < 500, `mean target index among the first closes: ${mean}`);
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
