// The e2e verdict on scale-downs judges the pods' own connection counts, not the deletion-cost annotations the
// pod simulator sorted by: with no annotations written (every cost 0, the ReplicaSet falling back to its other
// rules) a removal of a pod that held more clients than one that stayed must fail the run.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type PodDeletion, type RunFacts, removedEmptiest, summarize, verdict } from "../report.js";
import { goodRollout, ROLLOUT_TIMING, sample as rolloutSample } from "./rollout-fixture.js";

const TARGET = 1_000;

function facts(deletions: PodDeletion[]): RunFacts {
  // A passing rolling deploy in the middle (rollout-fixture.ts), so these cases judge only the scale-downs.
  const r = goodRollout();
  const sample = (t: number, replicas: number, pods: Record<string, number>) =>
    rolloutSample(t, { replicas, readyPods: replicas, pods, clientsOpen: 0, clientsConnected: 0 });
  return {
    scenario: "unit",
    startedAt: "2026-12-01T00:00:00Z",
    target: TARGET,
    minReplicas: 1,
    maxReplicasBound: 6,
    drainSeconds: ROLLOUT_TIMING.drainSeconds,
    preStopSeconds: ROLLOUT_TIMING.preStopSeconds,
    samples: [sample(0, 3, { a: 1_000, b: 1_000, c: 900 }), ...r.samples, sample(60, 1, { a: 700 })],
    rollout: r.rollout,
    deletions: [...r.deletions, ...deletions],
    events: [],
    rbacDenials: [],
    clients: {
      clients: 1,
      received: 1,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      resyncs: 0,
      failedSubscriptions: 0,
      reconnects: 0,
    },
    published: 1,
    publishErrors: 0,
    phases: [],
  };
}

const removal = (over: Partial<PodDeletion>): PodDeletion => ({
  t: 40,
  pod: "c",
  reason: "scale down",
  connections: 200,
  kept: [
    { pod: "a", connections: 700 },
    { pod: "b", connections: 600 },
  ],
  cost: 200,
  keptCosts: [700, 600],
  ...over,
});

describe("e2e verdict: every scale-down removed the emptiest pod", () => {
  it("passes when the removed pod held the fewest connections (within the 1 %-of-target rewrite slack, twice)", () => {
    assert.equal(removedEmptiest(removal({}), TARGET), true);
    assert.equal(removedEmptiest(removal({ connections: 620 }), TARGET), true, "within 20 of 600");
    assert.deepEqual(verdict(summarize(facts([removal({})])), 1), []);
  });

  it("fails when the operator wrote no annotations and the ReplicaSet removed a fuller pod", () => {
    // Every cost 0: a check on the costs (0 <= 0) passes whatever was removed.
    const noAnnotations = removal({ pod: "a", connections: 700, cost: 0, keptCosts: [0, 0] });
    noAnnotations.kept = [
      { pod: "b", connections: 600 },
      { pod: "c", connections: 200 },
    ];
    assert.ok(
      noAnnotations.keptCosts.every((c) => noAnnotations.cost <= c),
      "the costs agree, by construction",
    );
    assert.equal(removedEmptiest(noAnnotations, TARGET), false);
    const s = summarize(facts([noAnnotations]));
    assert.equal(s.scaleDownRemovedEmptiest, false);
    assert.deepEqual(s.scaleDownsNotEmptiest, ["a"]);
    assert.ok(verdict(s, 1).some((f) => /not the emptiest by its own connection count: a/.test(f)));
  });

  it("an unreadable count does not pass", () => {
    assert.equal(removedEmptiest(removal({ connections: undefined }), TARGET), false);
  });
});
