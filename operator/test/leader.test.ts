// Leader election over a Lease on the fake API server: one leader among two operators, failover when the leader
// stops renewing (a crash), fast handover on a graceful stop, and only the leader reconciles.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../src/api/realtimegateway.js";
import { kubeFromConfig } from "../src/kube.js";
import { LeaderElector } from "../src/leader.js";
import { type RunningOperator, startOperator } from "../src/main.js";
import type { FakeApiServer } from "../test-support/fake-apiserver/server.js";
import { eventually, fakeCluster, quietLog, sleep } from "./helpers.js";

const lease = { leaseDurationMs: 1200, renewDeadlineMs: 800, retryPeriodMs: 150 };
let server: FakeApiServer;
let kc: ReturnType<FakeApiServer["kubeConfig"]>;

before(async () => {
  ({ server, kc } = await fakeCluster());
});
after(async () => {
  await server.stop();
});

function operator(identity: string): RunningOperator {
  return startOperator(
    {
      leaderElect: true,
      leaseName: "rtgw-leader",
      leaseNamespace: "default",
      logLevel: "info",
      metricsPort: 0,
    },
    { kube: kubeFromConfig(kc), log: quietLog, identity, lease },
  );
}

describe("leader election", () => {
  it("two operators: one leader; the standby takes over within the lease duration after a crash", async () => {
    const a = operator("a");
    const b = operator("b");
    try {
      await eventually("a leader", () => a.isLeader() || b.isLeader());
      await sleep(lease.leaseDurationMs); // several renew periods: still exactly one
      assert.equal(Number(a.isLeader()) + Number(b.isLeader()), 1);
      const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
      const holder = server.get("coordination.k8s.io/v1", "Lease", "default", "rtgw-leader") as {
        spec: { holderIdentity: string };
      };
      assert.equal(holder.spec.holderIdentity, a.isLeader() ? "a" : "b");

      // Only the leader reconciles.
      const custom = kc.makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: "default",
        plural: PLURAL,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: "RealtimeGateway",
          metadata: { name: "le" },
          spec: { image: "x", redis: { url: "redis://r" } },
        },
      });
      await eventually("reconciled by the leader", () =>
        server.get("apps/v1", "Deployment", "default", "le"),
      );
      assert.equal(standby.gateway(), undefined, "the standby runs no controller");

      const crashedAt = Date.now();
      await leader.crash(); // stops renewing without releasing
      await eventually("failover", () => standby.isLeader(), lease.leaseDurationMs * 3);
      const took = Date.now() - crashedAt;
      assert.ok(took >= lease.leaseDurationMs * 0.8, `took over only after the lease expired (${took}ms)`);
      assert.ok(
        took <= lease.leaseDurationMs + 4 * lease.retryPeriodMs + 500,
        `took over within the lease duration (${took}ms)`,
      );
      const l = server.get("coordination.k8s.io/v1", "Lease", "default", "rtgw-leader") as {
        spec: { leaseTransitions: number };
      };
      assert.equal(l.spec.leaseTransitions, 1);
      await eventually("new leader's controller ready", () => standby.gateway()?.isReady);

      // A graceful stop releases the Lease: a fresh candidate gets it without waiting for expiry.
      const c = operator("c");
      await sleep(300);
      assert.equal(c.isLeader(), false);
      const stoppedAt = Date.now();
      await standby.stop();
      await eventually("handover", () => c.isLeader(), lease.leaseDurationMs * 3);
      assert.ok(Date.now() - stoppedAt < lease.leaseDurationMs, "released, not expired");
      await c.stop();
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("a leader that cannot renew steps down before its Lease could pass to another, then campaigns again", async () => {
    const solo = startOperator(
      { leaderElect: true, leaseName: "solo", leaseNamespace: "default", logLevel: "info", metricsPort: 0 },
      { kube: kubeFromConfig(kc), log: quietLog, identity: "solo", lease },
    );
    try {
      await eventually("leading", () => solo.isLeader() && solo.gateway()?.isReady);
      server.failNext(100_000, 500, (r) => r.path.includes("/leases/"));
      const failingSince = Date.now();
      await eventually(
        "stepped down",
        () => !solo.isLeader() && solo.gateway() === undefined,
        lease.leaseDurationMs * 3,
      );
      assert.ok(
        Date.now() - failingSince < lease.leaseDurationMs + 4 * lease.retryPeriodMs,
        "stopped acting in time",
      );
      server.clearFaults();
      await eventually("leading again", () => solo.isLeader(), lease.leaseDurationMs * 4);
    } finally {
      server.clearFaults();
      await solo.stop();
    }
  });

  it("never two holders: concurrent candidates race on resourceVersion", async () => {
    const kube = kubeFromConfig(kc);
    const electors = ["x", "y", "z"].map(
      (identity) =>
        new LeaderElector({
          leases: kube.leases,
          namespace: "default",
          name: "race",
          identity,
          log: quietLog,
          ...lease,
        }),
    );
    const wins = await Promise.all(electors.map((e) => e.tryAcquireOrRenew()));
    assert.equal(wins.filter(Boolean).length, 1, `wins: ${wins}`);
    const again = await Promise.all(electors.map((e) => e.tryAcquireOrRenew()));
    assert.equal(again.filter(Boolean).length, 1, "the holder renews, the others wait");
    assert.deepEqual(again, wins);
  });
});
