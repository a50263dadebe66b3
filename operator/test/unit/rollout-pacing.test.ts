// Rolling deploys go in waves: a tenth of the fleet (at least one pod) at a time, the next wave only once the
// previous wave's replacements have been Ready for one drain window, so only that share of clients moves at once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRealtimeGateway } from "../../src/api/realtimegateway.js";
import { renderDeployment } from "../../src/render/deployment.js";
import { type RolloutPacing, rolloutPacing } from "../../src/render/rollout-pacing.js";

describe("rollout pacing", () => {
  const cases: { name: string; replicas: number; drainSeconds: number; want: RolloutPacing }[] = [
    {
      name: "the default fleet (2 pods, 30 s drains): one pod per wave, 30 s apart",
      replicas: 2,
      drainSeconds: 30,
      want: { maxSurge: 1, maxUnavailable: 0, minReadySeconds: 30, progressDeadlineSeconds: 630 },
    },
    {
      name: "up to 10 replicas a wave is one pod",
      replicas: 10,
      drainSeconds: 20,
      want: { maxSurge: 1, maxUnavailable: 0, minReadySeconds: 20, progressDeadlineSeconds: 620 },
    },
    {
      name: "11 replicas: 10 % rounds up to two pods",
      replicas: 11,
      drainSeconds: 20,
      want: { maxSurge: 2, maxUnavailable: 0, minReadySeconds: 20, progressDeadlineSeconds: 620 },
    },
    {
      name: "a large fleet rolls in ten waves",
      replicas: 200,
      drainSeconds: 60,
      want: { maxSurge: 20, maxUnavailable: 0, minReadySeconds: 60, progressDeadlineSeconds: 660 },
    },
    {
      name: "scaled to zero: still a valid strategy (one pod of surge)",
      replicas: 0,
      drainSeconds: 30,
      want: { maxSurge: 1, maxUnavailable: 0, minReadySeconds: 30, progressDeadlineSeconds: 630 },
    },
    {
      name: "no drain window: waves still wait out the reconnect jitter (1 s)",
      replicas: 4,
      drainSeconds: 0,
      want: { maxSurge: 1, maxUnavailable: 0, minReadySeconds: 1, progressDeadlineSeconds: 601 },
    },
    {
      name: "an hour-long drain: waves overlap past 5 minutes, the deadline stays above minReadySeconds",
      replicas: 30,
      drainSeconds: 3600,
      want: { maxSurge: 3, maxUnavailable: 0, minReadySeconds: 300, progressDeadlineSeconds: 900 },
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.deepEqual(rolloutPacing({ replicas: c.replicas, drainSeconds: c.drainSeconds }), c.want),
    );
  }

  it("keeps the progress deadline above minReadySeconds for every drain window the CRD admits", () => {
    for (let drainSeconds = 0; drainSeconds <= 3600; drainSeconds += 7) {
      const p = rolloutPacing({ replicas: 5, drainSeconds });
      assert.ok(p.progressDeadlineSeconds > p.minReadySeconds, `drain ${drainSeconds}`);
      assert.ok(p.minReadySeconds >= 1 && p.minReadySeconds <= Math.max(1, drainSeconds));
    }
  });

  it("is what the Deployment carries, and follows a scale", () => {
    const parsed = parseRealtimeGateway({
      metadata: { name: "chat", namespace: "prod", uid: "uid-chat", generation: 1 },
      spec: { image: "rtgw:1", replicas: 14, drain: { seconds: 45 }, redis: { url: "redis://redis:6379" } },
    });
    assert.ok(parsed.ok);
    const spec = renderDeployment({ gateway: parsed.gateway }).spec;
    assert.equal(spec.minReadySeconds, 45);
    assert.equal(spec.progressDeadlineSeconds, 645);
    assert.deepEqual(spec.strategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 2 },
    });
  });
});
