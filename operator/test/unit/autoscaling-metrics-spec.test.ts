// Pure parts of the autoscaling controller: the Prometheus text parser behind the scrape, and the CR's autoscaling
// block in HPA's terms.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMetric } from "../../src/controllers/autoscaling/pod-metrics.js";
import { autoscalerSpec } from "../../src/controllers/autoscaling/spec.js";

describe("Prometheus text parsing", () => {
  const cases: [string, string, number | undefined][] = [
    ["plain", "rtgw_connections 12\n", 12],
    ["with timestamp", "rtgw_connections 12 1700000000000\n", 12],
    ["labels summed", 'rtgw_connections{a="x"} 2\nrtgw_connections{a="y}\\""} 3\n', 5],
    ["longer names are other metrics", "rtgw_connections_opened_total 99\nrtgw_connections 4\n", 4],
    ["float", "rtgw_connections 3e3\n", 3000],
    ["absent", "rtgw_other 1\n", undefined],
    ["NaN", "rtgw_connections NaN\n", undefined],
    ["comments and blank lines", "# TYPE rtgw_connections gauge\n\n  rtgw_connections   7  \n", 7],
    ["broken label set", 'rtgw_connections{a="x 2\n', undefined],
  ];
  for (const [name, body, expected] of cases) {
    it(name, () => assert.equal(parseMetric(body, "rtgw_connections"), expected));
  }
});

describe("CR autoscaling block → autoscaler spec", () => {
  const base = {
    enabled: true,
    minReplicas: 2,
    maxReplicas: 50,
    targetConnectionsPerPod: 10_000,
    tolerance: 0.1,
    scaleUpStabilizationSeconds: 0,
    scaleDownStabilizationSeconds: 300,
  };
  it("maps pods and percent to HPA policies", () => {
    const s = autoscalerSpec({
      ...base,
      scaleUp: { pods: 4, percent: 100, periodSeconds: 15 },
      scaleDown: { pods: 1, periodSeconds: 60 },
    });
    assert.deepEqual(s.scaleUp.policies, [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ]);
    assert.deepEqual(s.scaleDown.policies, [{ type: "Pods", value: 1, periodSeconds: 60 }]);
    assert.equal(s.scaleDown.stabilizationWindowSeconds, 300);
  });
  it("a rule with only a period gets HPA's default policies (never a frozen direction)", () => {
    const s = autoscalerSpec({ ...base, scaleUp: { periodSeconds: 30 }, scaleDown: { periodSeconds: 20 } });
    assert.deepEqual(s.scaleUp.policies, [
      { type: "Percent", value: 100, periodSeconds: 30 },
      { type: "Pods", value: 4, periodSeconds: 30 },
    ]);
    assert.deepEqual(s.scaleDown.policies, [{ type: "Percent", value: 100, periodSeconds: 20 }]);
  });
});
