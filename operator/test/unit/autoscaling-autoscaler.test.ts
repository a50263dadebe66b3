import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AutoscalerSpec,
  DEFAULT_SCALE_DOWN_POLICIES,
  DEFAULT_SCALE_UP_POLICIES,
  decide,
  EMPTY_HISTORY,
  metricReplicas,
  type PodObservation,
  type ScalingDecision,
  type ScalingHistory,
  summarizeMetrics,
} from "../../src/controllers/autoscaling/autoscaler.js";

const T0 = 1_700_000_000_000;

function spec(over: Partial<AutoscalerSpec> = {}): AutoscalerSpec {
  return {
    minReplicas: 1,
    maxReplicas: 50,
    targetConnectionsPerPod: 10_000,
    tolerance: 0.1,
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: DEFAULT_SCALE_UP_POLICIES },
    scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: DEFAULT_SCALE_DOWN_POLICIES },
    ...over,
  };
}
/** No rate limits at all: isolates the metric and the windows. */
const FREE = {
  selectPolicy: "Max" as const,
  policies: [{ type: "Percent" as const, value: 1000, periodSeconds: 1 }],
};

function pod(
  name: string,
  connections: number | undefined,
  over: Partial<PodObservation> = {},
): PodObservation {
  return { name, ready: true, deleting: false, connections, ...over };
}
/** `replicas` ready pods sharing `total` connections evenly. */
function evenPods(replicas: number, total: number): PodObservation[] {
  return Array.from({ length: replicas }, (_, i) =>
    pod(`p${i}`, Math.floor(total / replicas) + (i < total % replicas ? 1 : 0)),
  );
}

describe("metric replicas (HPA calcPlainMetricReplicas on connections per pod)", () => {
  const cases: {
    name: string;
    pods: PodObservation[];
    current: number;
    expect: number | undefined;
  }[] = [
    { name: "ceil(total / target)", pods: evenPods(2, 25_000), current: 2, expect: 3 },
    { name: "exactly at target", pods: evenPods(3, 30_000), current: 3, expect: 3 },
    { name: "inside the tolerance band above", pods: evenPods(2, 21_900), current: 2, expect: 2 },
    { name: "inside the tolerance band below", pods: evenPods(2, 18_100), current: 2, expect: 2 },
    { name: "just outside the band above", pods: evenPods(2, 22_100), current: 2, expect: 3 },
    {
      name: "outside the band below, but the ceiling keeps the count",
      pods: evenPods(4, 35_000),
      current: 4,
      expect: 4,
    },
    { name: "outside the band below", pods: evenPods(4, 29_000), current: 4, expect: 3 },
    { name: "well below", pods: evenPods(4, 15_000), current: 4, expect: 2 },
    { name: "empty fleet → 0 (bounds come later)", pods: evenPods(3, 0), current: 3, expect: 0 },
    {
      name: "scale-down with a missing metric: the missing pod counts as at target",
      pods: [pod("a", 1_000), pod("b", 1_000), pod("c", undefined)],
      current: 3,
      // (1000 + 1000 + 10000) / 3 / 10000 = 0.4 → ceil(0.4 * 3) = 2 instead of 1
      expect: 2,
    },
    {
      name: "scale-up with a missing metric: the missing pod counts as empty",
      pods: [pod("a", 20_000), pod("b", 20_000), pod("c", undefined)],
      current: 3,
      // (20000 + 20000 + 0) / 3 pods = 1.33 of target (not 2.0) → ceil(40000 / 10000) = 4
      expect: 4,
    },
    {
      name: "a missing metric that would flip a scale-up into the band holds the count",
      pods: [pod("a", 15_000), pod("b", 15_000), pod("c", undefined)],
      current: 3,
      expect: 3,
    },
    {
      name: "not-ready pods count as empty on a scale-up",
      pods: [pod("a", 15_000), pod("b", 15_000), pod("c", undefined, { ready: false })],
      current: 3,
      expect: 3,
    },
    {
      name: "not-ready pods are left out of a scale-down",
      pods: [pod("a", 2_000), pod("b", 2_000), pod("c", 9_000, { ready: false })],
      current: 3,
      expect: 1,
    },
    {
      name: "a deleting pod is no capacity, but its connections are demand (they move to the others)",
      pods: [pod("a", 10_000), pod("b", 10_000), pod("c", 50_000, { deleting: true })],
      current: 2,
      expect: 7,
    },
    { name: "no metric at all → undefined", pods: [pod("a", undefined)], current: 1, expect: undefined },
    { name: "no pods → undefined", pods: [], current: 2, expect: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const m = summarizeMetrics(c.pods, 10_000);
      assert.equal(metricReplicas(m, c.current, 10_000, 0.1), c.expect);
    });
  }
});

interface Step {
  /** seconds since T0 */
  t: number;
  /** total connections, spread evenly over the current replicas */
  total: number;
  expect: number;
  limitedBy?: ScalingDecision["limitedBy"] | null;
}

/** A fleet of `replicas` pods that follows each decision at once (the write succeeds): history carried along. */
function followingFleet(s: AutoscalerSpec, replicas: number) {
  const fleet = {
    history: EMPTY_HISTORY as ScalingHistory,
    replicas,
    /** decide() at `t` seconds with `total` connections spread evenly over the pods; the fleet follows. */
    at(t: number, total: number): ScalingDecision {
      const d = decide({
        history: fleet.history,
        pods: evenPods(fleet.replicas, total),
        currentReplicas: fleet.replicas,
        spec: s,
        now: T0 + t * 1000,
      });
      fleet.history = d.historyAfterScale;
      fleet.replicas = d.desiredReplicas;
      return d;
    },
  };
  return fleet;
}

/** Feed a load trace through decide(), the fleet following each decision at once. */
function runTrace(s: AutoscalerSpec, start: number, steps: Step[]): ScalingDecision[] {
  const fleet = followingFleet(s, start);
  return steps.map((step) => {
    const d = fleet.at(step.t, step.total);
    assert.equal(d.desiredReplicas, step.expect, `t=${step.t}s total=${step.total}: ${d.message}`);
    if (step.limitedBy !== undefined)
      assert.equal(d.limitedBy, step.limitedBy ?? undefined, `t=${step.t}s limit`);
    return d;
  });
}

describe("decide: traces", () => {
  it("follows ceil(connections / target) without windows or limits", () => {
    const s = spec({
      scaleUp: { stabilizationWindowSeconds: 0, ...FREE },
      scaleDown: { stabilizationWindowSeconds: 0, ...FREE },
    });
    runTrace(s, 1, [
      { t: 0, total: 5_000, expect: 1 },
      { t: 15, total: 25_000, expect: 3, limitedBy: null },
      { t: 30, total: 61_000, expect: 7 },
      { t: 45, total: 60_000, expect: 6 }, // 60000 / 7 pods = 0.857 of target: outside the band
      { t: 60, total: 56_000, expect: 6 }, // 0.933: inside the band, no change
    ]);
  });

  it("scale-down waits for the down window: the highest recommendation of the last N seconds wins", () => {
    const s = spec({
      scaleUp: { stabilizationWindowSeconds: 0, ...FREE },
      scaleDown: { stabilizationWindowSeconds: 60, ...FREE },
    });
    runTrace(s, 6, [
      { t: 0, total: 60_000, expect: 6 },
      { t: 15, total: 20_000, expect: 6, limitedBy: "ScaleDownStabilized" },
      { t: 30, total: 20_000, expect: 6, limitedBy: "ScaleDownStabilized" },
      { t: 59, total: 20_000, expect: 6, limitedBy: "ScaleDownStabilized" },
      // the 6 recorded at t=0 is now out of the window; every later recommendation was 2
      { t: 61, total: 20_000, expect: 2, limitedBy: null },
    ]);
  });

  it("a fresh controller seeds the down window with the current count (no scale-down right after a failover)", () => {
    const s = spec({ scaleDown: { stabilizationWindowSeconds: 300, ...FREE } });
    runTrace(s, 6, [
      { t: 0, total: 10_000, expect: 6, limitedBy: "ScaleDownStabilized" },
      { t: 299, total: 10_000, expect: 6 },
      { t: 301, total: 10_000, expect: 1 },
    ]);
  });

  it("scale-up waits for the up window: the lowest recommendation of the last N seconds wins", () => {
    const s = spec({
      scaleUp: { stabilizationWindowSeconds: 30, ...FREE },
      scaleDown: { stabilizationWindowSeconds: 0, ...FREE },
    });
    runTrace(s, 2, [
      { t: 0, total: 20_000, expect: 2 },
      { t: 10, total: 50_000, expect: 2, limitedBy: "ScaleUpStabilized" },
      { t: 20, total: 40_000, expect: 2 },
      // t=0's 2 has left the window; the lowest of {5 @10, 4 @20, 5 @31} is 4
      { t: 31, total: 50_000, expect: 4, limitedBy: "ScaleUpStabilized" },
      // {4 @20, 5 @31, 5 @41}: still 4, until t=20 leaves the window
      { t: 41, total: 50_000, expect: 4 },
      { t: 51, total: 50_000, expect: 5 },
    ]);
  });

  it("flapping load does not flap replicas", () => {
    // Load swings between 28k and 52k every 10 s for 10 minutes. With a 300 s down window the fleet goes up
    // to 6 once and stays: it never scales down while the high samples keep recurring.
    const s = spec({
      minReplicas: 2,
      scaleDown: {
        stabilizationWindowSeconds: 300,
        selectPolicy: "Max",
        policies: DEFAULT_SCALE_DOWN_POLICIES,
      },
    });
    const fleet = followingFleet(s, 3);
    const counts: number[] = [];
    for (let t = 0; t < 600; t += 10)
      counts.push(fleet.at(t, (t / 10) % 2 === 0 ? 28_000 : 52_000).desiredReplicas);
    const changes = counts.filter((c, i) => i > 0 && c !== counts[i - 1]).length;
    assert.equal(changes, 1, `replicas: ${counts.join(",")}`);
    assert.equal(counts.at(-1), 6);
    // Then the load settles low: the fleet comes down, one pod per minute, only after the window.
    const after: number[] = [];
    for (let t = 600; t < 1_500; t += 10) after.push(fleet.at(t, 15_000).desiredReplicas);
    assert.equal(
      after.slice(0, 29).every((r) => r === 6),
      true,
      `held through the window: ${after.join(",")}`,
    );
    assert.equal(after.at(-1), 2);
    for (let i = 1; i < after.length; i++) assert.ok(after[i - 1]! - after[i]! <= 1, "one pod at a time");
  });

  it("noise inside the tolerance band never moves the fleet", () => {
    const s = spec({
      scaleDown: { stabilizationWindowSeconds: 0, ...FREE },
      scaleUp: { stabilizationWindowSeconds: 0, ...FREE },
    });
    const steps: Step[] = [];
    for (let i = 0; i < 40; i++)
      steps.push({ t: i * 5, total: 40_000 + (i % 2 === 0 ? 3_900 : -3_900), expect: 4 });
    runTrace(s, 4, steps);
  });
});

describe("decide: rate policies", () => {
  it("HPA default scale-up: max(+100 %, +4 pods) per 15 s", () => {
    const s = spec();
    runTrace(s, 2, [
      { t: 0, total: 900_000, expect: 6, limitedBy: "ScaleUpLimit" }, // max(2*2, 2+4)
      { t: 5, total: 900_000, expect: 6, limitedBy: "ScaleUpLimit" }, // same period: nothing more
      { t: 16, total: 900_000, expect: 12, limitedBy: "ScaleUpLimit" }, // max(6*2, 6+4)
      { t: 32, total: 900_000, expect: 24 },
      { t: 48, total: 900_000, expect: 48 },
      { t: 64, total: 900_000, expect: 50, limitedBy: "TooManyReplicas" },
    ]);
  });

  it("select Min picks the policy allowing the least change", () => {
    const s = spec({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Min", policies: DEFAULT_SCALE_UP_POLICIES },
    });
    runTrace(s, 10, [{ t: 0, total: 500_000, expect: 14, limitedBy: "ScaleUpLimit" }]); // min(20, 14)
  });

  it("Disabled scale-up holds the count", () => {
    const s = spec({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Disabled",
        policies: DEFAULT_SCALE_UP_POLICIES,
      },
    });
    runTrace(s, 3, [{ t: 0, total: 90_000, expect: 3, limitedBy: "ScaleUpLimit" }]);
  });

  it("default scale-down removes max(1 pod, 10 % rounded as HPA does) per minute", () => {
    const s = spec({ minReplicas: 2 });
    runTrace(s, 30, [
      { t: 0, total: 1_000, expect: 27, limitedBy: "ScaleDownLimit" }, // max change of {-1, floor(30 * 0.9) = 27}
      { t: 30, total: 1_000, expect: 27, limitedBy: "ScaleDownLimit" }, // same minute: nothing more
      { t: 61, total: 1_000, expect: 24 }, // floor(27 * 0.9) = 24
    ]);
    runTrace(s, 6, [{ t: 0, total: 1_000, expect: 5, limitedBy: "ScaleDownLimit" }]); // floor(5.4) = 5 = 6 - 1
  });

  it("scale-down one pod per period: each step waits for the period to pass", () => {
    const s = spec({
      minReplicas: 2,
      scaleDown: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [{ type: "Pods", value: 1, periodSeconds: 30 }],
      },
    });
    runTrace(s, 6, [
      { t: 0, total: 10_000, expect: 5, limitedBy: "ScaleDownLimit" },
      { t: 10, total: 10_000, expect: 5, limitedBy: "ScaleDownLimit" },
      { t: 29, total: 10_000, expect: 5 },
      { t: 31, total: 10_000, expect: 4 },
      { t: 62, total: 10_000, expect: 3 },
      { t: 93, total: 10_000, expect: 2, limitedBy: "TooFewReplicas" },
      { t: 124, total: 10_000, expect: 2 },
    ]);
  });

  it("a scale-up in the period counts against a scale-down (period start replicas)", () => {
    const s = spec({
      scaleUp: { stabilizationWindowSeconds: 0, ...FREE },
      scaleDown: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
      },
    });
    // 2 → 5 at t=0. At t=10 the scale-down period started at 2 replicas (5 - 3 added), so the Pods policy
    // allows 2 - 1 = 1: the fleet may fall straight back to the metric's 1.
    runTrace(s, 2, [
      { t: 0, total: 50_000, expect: 5 },
      { t: 10, total: 5_000, expect: 1 },
    ]);
  });
});

describe("decide: bounds and special cases", () => {
  it("min and max bound the metric", () => {
    const s = spec({
      minReplicas: 2,
      maxReplicas: 5,
      scaleUp: { stabilizationWindowSeconds: 0, ...FREE },
      scaleDown: { stabilizationWindowSeconds: 0, ...FREE },
    });
    runTrace(s, 3, [
      { t: 0, total: 1_000, expect: 2, limitedBy: "TooFewReplicas" },
      { t: 15, total: 900_000, expect: 5, limitedBy: "TooManyReplicas" },
    ]);
  });

  it("a count outside the bounds moves into them first", () => {
    const s = spec({ minReplicas: 2, maxReplicas: 4 });
    const d = decide({
      history: EMPTY_HISTORY,
      pods: evenPods(7, 70_000),
      currentReplicas: 7,
      spec: s,
      now: T0,
    });
    assert.equal(d.desiredReplicas, 4);
    assert.equal(d.reason, "ScaleDown");
    const up = decide({ history: EMPTY_HISTORY, pods: evenPods(1, 0), currentReplicas: 1, spec: s, now: T0 });
    assert.equal(up.desiredReplicas, 2);
  });

  it("replicas 0 with minReplicas > 0 parks the fleet (HPA: scaling disabled)", () => {
    const d = decide({
      history: EMPTY_HISTORY,
      pods: [],
      currentReplicas: 0,
      spec: spec({ minReplicas: 2 }),
      now: T0,
    });
    assert.equal(d.reason, "ScalingDisabled");
    assert.equal(d.desiredReplicas, 0);
  });

  it("without metrics it keeps the count and says so", () => {
    const pods = [pod("a", undefined), pod("b", undefined, { ready: false })];
    const d = decide({ history: EMPTY_HISTORY, pods, currentReplicas: 2, spec: spec(), now: T0 });
    assert.equal(d.reason, "NoMetrics");
    assert.equal(d.desiredReplicas, 2);
    assert.match(d.message, /no ready pod reported/);
  });

  it("the message carries the numbers behind the decision", () => {
    const s = spec({ scaleUp: { stabilizationWindowSeconds: 0, ...FREE } });
    const d = decide({
      history: EMPTY_HISTORY,
      pods: evenPods(2, 31_000),
      currentReplicas: 2,
      spec: s,
      now: T0,
    });
    assert.equal(d.reason, "ScaleUp");
    assert.match(d.message, /31000 connections on 2 reporting pod\(s\) \(target 10000\/pod, ratio 1\.550\)/);
    assert.match(d.message, /replicas 2 -> 4/);
  });

  it("history stays bounded: old recommendations and events are forgotten", () => {
    const s = spec({ scaleDown: { stabilizationWindowSeconds: 60, ...FREE } });
    const fleet = followingFleet(s, 2);
    for (let t = 0; t < 3_600; t += 5) fleet.at(t, t % 20 === 0 ? 35_000 : 15_000);
    const { history } = fleet;
    assert.ok(history.recommendations.length <= 13, `recommendations: ${history.recommendations.length}`);
    assert.ok(history.scaleUps.length + history.scaleDowns.length <= 16);
  });
});

describe("a scale counts against the rate policies only once written (HPA's storeScaleEvent)", () => {
  const onePodPerMinute = spec({
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
    },
  });
  it("newHistory keeps the recommendation but no scale event; historyAfterScale has the event", () => {
    const d = decide({
      history: EMPTY_HISTORY,
      pods: evenPods(2, 40_000),
      currentReplicas: 2,
      spec: onePodPerMinute,
      now: T0,
    });
    assert.equal(d.desiredReplicas, 3);
    assert.deepEqual(d.newHistory.scaleUps, []);
    assert.deepEqual(d.newHistory.recommendations, [{ at: T0, replicas: 4 }]);
    assert.deepEqual(d.historyAfterScale.scaleUps, [{ at: T0, pods: 1 }]);
  });
  it("after a failed write (newHistory kept) the next pass may scale up again at once", () => {
    const first = decide({
      history: EMPTY_HISTORY,
      pods: evenPods(2, 40_000),
      currentReplicas: 2,
      spec: onePodPerMinute,
      now: T0,
    });
    const retry = decide({
      history: first.newHistory,
      pods: evenPods(2, 40_000),
      currentReplicas: 2,
      spec: onePodPerMinute,
      now: T0 + 5_000,
    });
    assert.equal(retry.desiredReplicas, 3, retry.message);
    const afterSuccess = decide({
      history: first.historyAfterScale,
      pods: evenPods(3, 40_000),
      currentReplicas: 3,
      spec: onePodPerMinute,
      now: T0 + 5_000,
    });
    assert.equal(afterSuccess.desiredReplicas, 3, "a written scale-up does use up the period");
    assert.equal(afterSuccess.limitedBy, "ScaleUpLimit");
  });
});

describe("terminating pods (deletionTimestamp set) are not ready capacity", () => {
  it("an empty terminating pod that still reports does not dilute a scale-up", () => {
    const d = decide({
      history: EMPTY_HISTORY,
      pods: [pod("a", 15_000), pod("b", 15_000), pod("old", 0, { deleting: true })],
      currentReplicas: 2,
      spec: spec(),
      now: T0,
    });
    // 30000 over the 2 pods that stay → 3; counting "old" as ready would read 10000/pod: no scale-up
    assert.equal(d.desiredReplicas, 3, d.message);
    assert.equal(d.metrics.readyPods, 2);
    assert.equal(d.metrics.deletingPods, 1);
  });
  it("the clients a full terminating pod still holds push a scale-up: they are moving to the other pods", () => {
    const d = decide({
      history: EMPTY_HISTORY,
      pods: [pod("a", 10_000), pod("b", 10_000), pod("old", 40_000, { deleting: true })],
      currentReplicas: 2,
      spec: spec({
        scaleUp: { ...FREE, stabilizationWindowSeconds: 0 },
        scaleDown: { ...FREE, stabilizationWindowSeconds: 0 },
      }),
      now: T0,
    });
    assert.equal(d.desiredReplicas, 6, d.message);
    assert.equal(d.metrics.totalConnections, 20_000, "the ready pods' own count (status.connections)");
    assert.equal(d.metrics.leavingConnections, 40_000);
  });
  it("a rolling update does not scale the fleet down while an old pod drains", () => {
    // Mid-rollout: two old pods and a fresh (empty) one ready, a third old pod draining its 6,000 clients.
    const d = decide({
      history: EMPTY_HISTORY,
      pods: [
        pod("old-1", 6_000),
        pod("old-2", 6_000),
        pod("new-1", 0),
        pod("old-3", 6_000, { deleting: true }),
      ],
      currentReplicas: 3,
      spec: spec({
        targetConnectionsPerPod: 7_000,
        scaleUp: { ...FREE, stabilizationWindowSeconds: 0 },
        scaleDown: { ...FREE, stabilizationWindowSeconds: 0 },
      }),
      now: T0,
    });
    // 18,000 clients over a target of 7,000 still need 3 pods; without the draining pod's clients it read 2.
    assert.equal(d.desiredReplicas, 3, d.message);
  });
});

describe("during a rolling update", () => {
  const free = spec({
    scaleUp: { stabilizationWindowSeconds: 0, ...FREE },
    scaleDown: { stabilizationWindowSeconds: 0, ...FREE },
  });
  const run = (total: number, current: number, rollingUpdate: boolean) =>
    decide({
      history: EMPTY_HISTORY,
      pods: evenPods(current, total),
      currentReplicas: current,
      spec: free,
      now: T0,
      rollingUpdate,
    });

  it("holds a scale-down until the rollout is over, and says so", () => {
    const d = run(20_000, 5, true);
    assert.equal(d.desiredReplicas, 5);
    assert.equal(d.recommendation, 2);
    assert.equal(d.limitedBy, "RollingUpdate");
    assert.equal(d.reason, "Steady");
    assert.equal(run(20_000, 5, false).desiredReplicas, 2, "the same load scales down outside a rollout");
  });

  it("still scales up", () => {
    const d = run(70_000, 5, true);
    assert.equal(d.desiredReplicas, 7);
    assert.equal(d.limitedBy, undefined);
  });

  it("remembers the held recommendation for the window, without a scale event", () => {
    const d = run(20_000, 5, true);
    assert.deepEqual(d.newHistory.scaleDowns, []);
    assert.deepEqual(d.historyAfterScale.scaleDowns, [], "a held scale-down uses up no rate-limit period");
    assert.equal(d.newHistory.recommendations.at(-1)?.replicas, 2);
  });
});
