// The pod simulator's rolling update follows the Deployment's rendered maxSurge/maxUnavailable as the Deployment
// controller does: never more than replicas + maxSurge pods, never fewer than replicas - maxUnavailable ready.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isAvailable,
  type RolloutCounts,
  resolveIntOrPercent,
  rollingUpdateLimits,
  rolloutStep,
} from "../../../dev-cluster/deployment-rollout.js";

describe("rolling update limits", () => {
  it("rounds maxSurge up and maxUnavailable down", () => {
    assert.deepEqual(rollingUpdateLimits({ maxSurge: "25%", maxUnavailable: "25%" }, 7), {
      maxSurge: 2,
      maxUnavailable: 1,
    });
    assert.deepEqual(rollingUpdateLimits({ maxSurge: "25%", maxUnavailable: 0 }, 3), {
      maxSurge: 1,
      maxUnavailable: 0,
    });
  });
  it("defaults to 25 % / 25 % and never lets both be 0", () => {
    assert.deepEqual(rollingUpdateLimits(undefined, 8), { maxSurge: 2, maxUnavailable: 2 });
    assert.deepEqual(rollingUpdateLimits({ maxSurge: "10%", maxUnavailable: "10%" }, 0), {
      maxSurge: 0,
      maxUnavailable: 1,
    });
  });
  it("rejects what is neither an integer nor a percentage", () => {
    assert.throws(() => resolveIntOrPercent("a lot", 4, true), /neither an integer nor a percentage/);
    assert.throws(() => resolveIntOrPercent(-1, 4, true), /non-negative integer/);
  });
});

describe("availability", () => {
  it("is Ready for minReadySeconds", () => {
    assert.equal(isAvailable({ ready: true, readySince: 1_000 }, 0, 1_000), true);
    assert.equal(isAvailable({ ready: true, readySince: 1_000 }, 5, 5_999), false);
    assert.equal(isAvailable({ ready: true, readySince: 1_000 }, 5, 6_000), true);
    assert.equal(isAvailable({ ready: false, readySince: 1_000 }, 0, 9_000), false);
  });
});

describe("rollout step", () => {
  const cases: { name: string; c: RolloutCounts; surge: number; unavailable: number; want: object }[] = [
    {
      name: "surge first: nothing old goes before a new pod is ready (maxUnavailable 0)",
      c: { desired: 3, newPods: 0, newAvailable: 0, oldPods: 3, oldAvailable: 3 },
      surge: 1,
      unavailable: 0,
      want: { create: 1, deleteOld: 0 },
    },
    {
      name: "a new pod still starting holds the old ones",
      c: { desired: 3, newPods: 1, newAvailable: 0, oldPods: 3, oldAvailable: 3 },
      surge: 1,
      unavailable: 0,
      want: { create: 0, deleteOld: 0 },
    },
    {
      name: "a ready new pod frees one old pod",
      c: { desired: 3, newPods: 1, newAvailable: 1, oldPods: 3, oldAvailable: 3 },
      surge: 1,
      unavailable: 0,
      want: { create: 0, deleteOld: 1 },
    },
    {
      name: "maxSurge 2 surges two at once",
      c: { desired: 7, newPods: 0, newAvailable: 0, oldPods: 7, oldAvailable: 7 },
      surge: 2,
      unavailable: 0,
      want: { create: 2, deleteOld: 0 },
    },
    {
      name: "maxUnavailable 1 lets one old pod go before any new one is ready",
      c: { desired: 4, newPods: 1, newAvailable: 0, oldPods: 4, oldAvailable: 4 },
      surge: 1,
      unavailable: 1,
      want: { create: 0, deleteOld: 1 },
    },
    {
      name: "an unready old pod goes when the capacity allows, even before new pods are ready",
      c: { desired: 3, newPods: 1, newAvailable: 1, oldPods: 3, oldAvailable: 2 },
      surge: 1,
      unavailable: 0,
      want: { create: 0, deleteOld: 1 },
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      assert.deepEqual(rolloutStep(t.c, { maxSurge: t.surge, maxUnavailable: t.unavailable }), t.want);
    });
  }

  it("a whole rollout keeps its bounds and replaces every pod", () => {
    // New pods turn ready one sync after their creation; deletions are immediate (terminating pods don't count).
    for (const [desired, surge, unavailable] of [
      [7, 2, 0],
      [3, 1, 0],
      [10, 3, 2],
      [1, 1, 0],
    ] as const) {
      let c: RolloutCounts = {
        desired,
        newPods: 0,
        newAvailable: 0,
        oldPods: desired,
        oldAvailable: desired,
      };
      let syncs = 0;
      while (c.oldPods > 0 || c.newAvailable < desired) {
        assert.ok(++syncs < 100, `rollout ${desired}/${surge}/${unavailable} never finished`);
        const s = rolloutStep(c, { maxSurge: surge, maxUnavailable: unavailable });
        c = {
          desired,
          newPods: c.newPods + s.create,
          newAvailable: c.newPods, // last sync's new pods are ready now
          oldPods: c.oldPods - s.deleteOld,
          oldAvailable: c.oldAvailable - s.deleteOld,
        };
        assert.ok(
          c.newPods + c.oldPods <= desired + surge,
          `above replicas + maxSurge: ${JSON.stringify(c)}`,
        );
        assert.ok(
          c.oldAvailable + Math.min(c.newAvailable, c.newPods) >= desired - unavailable,
          `below replicas - maxUnavailable: ${JSON.stringify(c)}`,
        );
      }
    }
  });
});
