import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  deletionCostStale,
  deletionCostUpdates,
  POD_DELETION_COST,
  podDeletionCost,
  replacedPods,
} from "../../src/controllers/autoscaling/deletion-cost.js";
import {
  DEFAULT_REBALANCE,
  INITIAL_REBALANCE,
  type RebalanceDecision,
  type RebalanceState,
  rebalance,
} from "../../src/controllers/autoscaling/rebalance.js";

const T0 = 1_700_000_000_000;

describe("pod deletion cost", () => {
  it("is the connection count as an int32", () => {
    assert.equal(podDeletionCost(1234), 1234);
    assert.equal(podDeletionCost(-3), 0);
    assert.equal(podDeletionCost(1e12), 2_147_483_647);
  });

  it("is minus the count on a pod a rolling update replaces, so the fullest old pod goes first", () => {
    assert.equal(podDeletionCost(1234, true), -1234);
    assert.equal(podDeletionCost(0, true), 0);
    assert.equal(podDeletionCost(1e12, true), -2_147_483_647);
  });

  const at = (name: string, templateHash: string | undefined, createdAt: number) => ({
    name,
    templateHash,
    createdAt,
  });
  const replacedCases: { name: string; pods: ReturnType<typeof at>[]; want: string[] }[] = [
    { name: "one template: nothing is being replaced", pods: [at("a", "x", 1), at("b", "x", 2)], want: [] },
    {
      name: "a rollout: the pods not of the newest pod's template",
      pods: [at("a", "x", 1), at("b", "x", 2), at("c", "y", 3)],
      want: ["a", "b"],
    },
    {
      name: "a rollback mid-rollout: the newest pod's template is the current one again",
      pods: [at("a", "x", 1), at("b", "y", 2), at("c", "x", 3)],
      want: ["b"],
    },
    {
      name: "pods without a pod-template-hash are never taken for old ones",
      pods: [at("bare", undefined, 1), at("a", "x", 2)],
      want: [],
    },
    { name: "no pods", pods: [], want: [] },
  ];
  for (const c of replacedCases) {
    it(`replaced pods: ${c.name}`, () => assert.deepEqual([...replacedPods(c.pods)].sort(), c.want));
  }

  it("updates a replaced pod's cost to its negated count", () => {
    const updates = deletionCostUpdates(
      [
        { name: "old", annotations: { [POD_DELETION_COST]: "9000" }, connections: 9000, replaced: true },
        { name: "new", annotations: { [POD_DELETION_COST]: "300" }, connections: 300, replaced: false },
      ],
      10_000,
    );
    assert.deepEqual(updates, [{ pod: "old", cost: -9000 }]);
  });

  const cases: [string | undefined, number, boolean][] = [
    [undefined, 0, true],
    ["garbage", 10, true],
    ["5000", 5000, false],
    ["5000", 5099, false], // < 1 % of the 10k target
    ["5000", 5100, true],
    ["5000", 4900, true],
    ["0", 3, true], // leaving empty always counts: empty pods must go first
    ["3", 0, true],
  ];
  for (const [current, next, stale] of cases) {
    it(`${current ?? "missing"} → ${next}: ${stale ? "write" : "skip"}`, () => {
      assert.equal(deletionCostStale(current, next, 10_000), stale);
    });
  }

  it("updates only pods with a fresh metric and a stale annotation", () => {
    const updates = deletionCostUpdates(
      [
        { name: "a", annotations: { [POD_DELETION_COST]: "9000" }, connections: 9010 },
        { name: "b", annotations: undefined, connections: 200 },
        { name: "c", annotations: { [POD_DELETION_COST]: "100" }, connections: undefined },
        { name: "d", annotations: { [POD_DELETION_COST]: "9000" }, connections: 2000 },
      ],
      10_000,
    );
    assert.deepEqual(updates, [
      { pod: "b", cost: 200 },
      { pod: "d", cost: 2000 },
    ]);
  });
});

function pods(...counts: number[]) {
  return counts.map((connections, i) => ({ name: `p${i}`, connections }));
}

describe("rebalance", () => {
  const base = { targetConnectionsPerPod: 10_000, spec: DEFAULT_REBALANCE, settled: true };

  it("does nothing while the fleet is not settled", () => {
    const d = rebalance({
      ...base,
      settled: false,
      pods: pods(15_000, 15_000, 0),
      state: INITIAL_REBALANCE,
      now: T0,
    });
    assert.equal(d.reason, "NotSettled");
    assert.deepEqual(d.shed, []);
  });

  it("does nothing when balanced (spread within 20 % of target)", () => {
    const d = rebalance({ ...base, pods: pods(11_000, 10_000, 9_000), state: INITIAL_REBALANCE, now: T0 });
    assert.equal(d.reason, "Balanced");
    assert.equal(d.spread, 1_000);
  });

  it("waits for the skew to last, then sheds from the fullest, bounded per pod and per round", () => {
    let d = rebalance({ ...base, pods: pods(15_000, 14_000, 1_000), state: INITIAL_REBALANCE, now: T0 });
    assert.equal(d.reason, "Waiting");
    d = rebalance({ ...base, pods: pods(15_000, 14_000, 1_000), state: d.state, now: T0 + 29_000 });
    assert.equal(d.reason, "Waiting");
    d = rebalance({ ...base, pods: pods(15_000, 14_000, 1_000), state: d.state, now: T0 + 30_000 });
    assert.equal(d.reason, "Shedding");
    // mean 10000: excess 5000 and 4000, capped at 10 % of each pod
    assert.deepEqual(d.shed, [
      { pod: "p0", count: 1_500 },
      { pod: "p1", count: 1_400 },
    ]);
    // the next round waits roundSeconds
    const again = rebalance({ ...base, pods: pods(14_000, 13_000, 3_000), state: d.state, now: T0 + 35_000 });
    assert.equal(again.reason, "Waiting");
    assert.deepEqual(again.shed, []);
  });

  it("never sheds from a terminating pod and does not count it as capacity; waits until it is gone", () => {
    // The fullest pod is terminating (still draining its clients): with it counted, p0 would shed.
    const withLeaving = [
      ...pods(15_000, 14_000, 1_000),
      { name: "old", connections: 30_000, terminating: true },
    ];
    let d = rebalance({ ...base, pods: withLeaving, state: INITIAL_REBALANCE, now: T0 });
    d = rebalance({ ...base, pods: withLeaving, state: d.state, now: T0 + 60_000 });
    assert.equal(d.reason, "NotSettled");
    assert.deepEqual(d.shed, []);
    assert.equal(d.mean, 10_000, "the mean is over the pods that stay");
    // Gone: the same skew among the pods that stay is shed as usual, none from the one that left.
    d = rebalance({ ...base, pods: pods(15_000, 14_000, 1_000), state: d.state, now: T0 + 61_000 });
    d = rebalance({ ...base, pods: pods(15_000, 14_000, 1_000), state: d.state, now: T0 + 91_000 });
    assert.deepEqual(
      d.shed.map((o) => o.pod),
      ["p0", "p1"],
    );
  });

  it("a spread that falls back within the bound resets the wait", () => {
    let d = rebalance({ ...base, pods: pods(15_000, 5_000), state: INITIAL_REBALANCE, now: T0 });
    d = rebalance({ ...base, pods: pods(10_500, 9_500), state: d.state, now: T0 + 20_000 });
    assert.equal(d.state.skewedSince, undefined);
    d = rebalance({ ...base, pods: pods(15_000, 5_000), state: d.state, now: T0 + 40_000 });
    assert.equal(d.reason, "Waiting");
  });

  it("converges after a scale-up when shed clients land uniformly, moving little more than the excess", () => {
    // 2 full pods, then 2 new empty ones: 40k connections should end near 10k each.
    let counts = [20_000, 20_000, 0, 0];
    let state: RebalanceState = INITIAL_REBALANCE;
    let moved = 0;
    let last: RebalanceDecision | undefined;
    for (let t = 0; t < 3_600; t += 5) {
      last = rebalance({ ...base, pods: pods(...counts), state, now: T0 + t * 1000 });
      state = last.state;
      for (const order of last.shed) {
        const i = Number(order.pod.slice(1));
        counts[i]! -= order.count;
        moved += order.count;
        // the Service spreads reconnects evenly over all ready pods, the shedding one included
        counts = counts.map((c) => c + order.count / counts.length);
      }
    }
    assert.equal(last?.reason, "Balanced", `ended at ${counts.map(Math.round).join(",")}`);
    const spread = Math.max(...counts) - 10_000;
    assert.ok(spread <= 2_000, `spread ${spread}`);
    // 20000 must move; a uniformly re-landing client hits one of the two full pods half of the time, so
    // anything up to twice that is the price of a plain Service; more would mean overshooting.
    assert.ok(moved < 40_000, `moved ${moved}`);
  });
});
