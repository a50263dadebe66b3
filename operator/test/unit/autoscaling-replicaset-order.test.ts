// The pod simulator's ReplicaSet deletion order (test-support/cluster), which the e2e relies on to show that a
// scale-down removes the emptiest pods.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDeletionCost, podsToDelete, type RankedPod } from "../../../dev-cluster/replicaset-order.js";

function pod(name: string, over: Partial<RankedPod> = {}): RankedPod {
  return {
    name,
    phase: "Running",
    ready: true,
    readySince: 1000,
    deletionCost: 0,
    restarts: 0,
    createdAt: 0,
    ...over,
  };
}

describe("ReplicaSet deletion order", () => {
  const cases: { name: string; pods: RankedPod[]; first: string }[] = [
    {
      name: "pending first",
      pods: [pod("run"), pod("pend", { phase: "Pending", ready: false })],
      first: "pend",
    },
    { name: "not ready before ready", pods: [pod("ok"), pod("sick", { ready: false })], first: "sick" },
    {
      name: "lowest deletion cost among ready pods",
      pods: [
        pod("full", { deletionCost: 9000 }),
        pod("empty", { deletionCost: 120 }),
        pod("mid", { deletionCost: 4000 }),
      ],
      first: "empty",
    },
    {
      name: "cost beats age",
      pods: [
        pod("old-empty", { deletionCost: 10, createdAt: 1 }),
        pod("new-full", { deletionCost: 900, createdAt: 9 }),
      ],
      first: "old-empty",
    },
    {
      name: "same cost: ready for less time first",
      pods: [pod("a", { readySince: 100 }), pod("b", { readySince: 500 })],
      first: "b",
    },
    { name: "then more restarts", pods: [pod("a"), pod("b", { restarts: 2 })], first: "b" },
    { name: "then newer", pods: [pod("a", { createdAt: 1 }), pod("b", { createdAt: 2 })], first: "b" },
    {
      name: "not ready beats cost",
      pods: [pod("empty", { deletionCost: 0 }), pod("sick", { ready: false, deletionCost: 99 })],
      first: "sick",
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(podsToDelete(c.pods, 1)[0]?.name, c.first));
  }

  it("takes the n cheapest for a scale-down by n", () => {
    const pods = [5, 1, 4, 2, 3].map((c) => pod(`p${c}`, { deletionCost: c * 1000 }));
    assert.deepEqual(
      podsToDelete(pods, 2).map((p) => p.name),
      ["p1", "p2"],
    );
  });

  it("parses the annotation as the API server does (int32, else 0)", () => {
    assert.equal(parseDeletionCost("42"), 42);
    assert.equal(parseDeletionCost("-7"), -7);
    assert.equal(parseDeletionCost("1.5"), 0);
    assert.equal(parseDeletionCost(undefined), 0);
    assert.equal(parseDeletionCost("99999999999"), 0);
  });
});
