// Leader election over a Lease on the fake API server: one leader among two operators, failover when the leader
// stops renewing (a crash), fast handover on a graceful stop, a leader that cannot renew (errors or a hung request)
// steps down in time, and only the leader reconciles.
//
// The properties are checked on what the operators wrote to the Lease (renewTime, acquireTime: their own clock)
// and on when each term started and stopped, not with stopwatches around awaits, so a loaded machine cannot make
// them fail: a slow event loop only delays events, and every waiting bound is a generous backstop.
//   safety: terms of different replicas never overlap; the Lease changes holder only after the previous holder's
//     last renewTime + leaseDuration (or after it released it); a leader stops acting before its Lease could pass.
//   liveness: a standby takes over after a crash; a graceful stop hands over without waiting for expiry.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { V1Lease } from "@kubernetes/client-node";
import type { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { type RunningOperator, startOperator } from "../src/main.js";
import { kubeFromConfig, type LeaseClient } from "../src/runtime/kube.js";
import { LeaderElector } from "../src/runtime/leader-election.js";
import { createGateway, eventually, fakeCluster, quietLog } from "./helpers.js";

// Whole seconds (the Lease stores leaseDurationSeconds); step-down (renewDeadline + one retry) leaves ~1.2 s of margin
// before the Lease could pass to another replica.
const lease = { leaseDurationMs: 3000, renewDeadlineMs: 1500, retryPeriodMs: 250 };
const D = lease.leaseDurationMs;
/** Backstop for anything that should take about one lease duration. */
const BACKSTOP = 6 * D;

let server: FakeApiServer;
let kc: ReturnType<FakeApiServer["kubeConfig"]>;

before(async () => {
  ({ server, kc } = await fakeCluster());
});
after(async () => {
  await server.stop();
});

interface LeaseWrite {
  by: string;
  rv: number;
  holder: string;
  renewTime: number;
  acquireTime: number;
  durationMs: number;
  transitions: number;
}
interface Term {
  identity: string;
  started: number;
  stopped?: number;
}

const ms = (t: unknown) => new Date(t as string).getTime();

/** Records every Lease write the candidates made (as the server returned it) and every term, on one clock. */
class ElectionRecord {
  readonly writes: LeaseWrite[] = [];
  readonly terms: Term[] = [];
  private readonly gets = new Map<string, number>();
  private readonly hung = new Set<string>();
  private readonly pending: ((err: Error) => void)[] = [];

  getsBy(identity: string): number {
    return this.gets.get(identity) ?? 0;
  }

  /** From now on `identity`'s Lease requests never answer (a partitioned API server), until unhang(). */
  hang(identity: string): void {
    this.hung.add(identity);
  }
  unhang(identity: string): void {
    this.hung.delete(identity);
    for (const reject of this.pending.splice(0)) reject(new Error("connection reset"));
  }

  leases(identity: string, inner: LeaseClient): LeaseClient {
    const call = async <T>(f: () => Promise<T>): Promise<T> => {
      if (this.hung.has(identity)) return new Promise<T>((_, reject) => this.pending.push(reject));
      return f();
    };
    const record = (l: V1Lease) => {
      const s = l.spec ?? {};
      this.writes.push({
        by: identity,
        rv: Number(l.metadata?.resourceVersion),
        holder: s.holderIdentity ?? "",
        renewTime: ms(s.renewTime),
        acquireTime: ms(s.acquireTime),
        durationMs: (s.leaseDurationSeconds ?? 0) * 1000,
        transitions: s.leaseTransitions ?? 0,
      });
      return l;
    };
    return {
      get: (ns, name) =>
        call(async () => {
          const l = await inner.get(ns, name);
          this.gets.set(identity, this.getsBy(identity) + 1);
          return l;
        }),
      create: (ns, l) => call(async () => record(await inner.create(ns, l))),
      replace: (ns, name, l) => call(async () => record(await inner.replace(ns, name, l))),
    };
  }

  onTerm(identity: string) {
    return (phase: "started" | "stopped") => {
      if (phase === "started") this.terms.push({ identity, started: Date.now() });
      else {
        const t = this.terms.findLast((x) => x.identity === identity && x.stopped === undefined);
        assert.ok(t, `${identity} stopped a term it never started`);
        t.stopped = Date.now();
      }
    };
  }

  /** In server order. */
  history(): LeaseWrite[] {
    return [...this.writes].sort((a, b) => a.rv - b.rv);
  }

  /** The last renewTime `identity` wrote as holder, up to `until`. */
  lastRenew(identity: string, until = Number.POSITIVE_INFINITY): number {
    const own = this.writes.filter((w) => w.by === identity && w.holder === identity && w.renewTime <= until);
    assert.ok(own.length > 0, `${identity} never held the Lease`);
    return Math.max(...own.map((w) => w.renewTime));
  }

  /** The safety properties over everything recorded. */
  assertSafe(): void {
    for (const a of this.terms)
      for (const b of this.terms) {
        if (a === b || a.identity === b.identity) continue;
        const apart =
          (a.stopped ?? Number.POSITIVE_INFINITY) <= b.started ||
          (b.stopped ?? Number.POSITIVE_INFINITY) <= a.started;
        assert.ok(apart, `terms overlap: ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
      }
    const h = this.history();
    for (let i = 1; i < h.length; i++) {
      const [prev, next] = [h[i - 1]!, h[i]!];
      if (prev.holder === "" || next.holder === "" || prev.holder === next.holder) continue;
      assert.ok(
        next.acquireTime >= prev.renewTime + prev.durationMs,
        `${next.holder} took the Lease ${prev.renewTime + prev.durationMs - next.acquireTime} ms before ${prev.holder}'s expired`,
      );
    }
    for (const t of this.terms) {
      if (t.stopped === undefined) continue;
      const expiry = this.lastRenew(t.identity, t.stopped) + D;
      assert.ok(t.stopped < expiry, `${t.identity} acted ${t.stopped - expiry} ms past its Lease`);
    }
  }
}

function operator(identity: string, rec: ElectionRecord, leaseName = "rtgw-leader"): RunningOperator {
  const kube = kubeFromConfig(kc);
  return startOperator(
    { leaderElect: true, leaseName, leaseNamespace: "default", logLevel: "info", metricsPort: 0 },
    {
      kube: { ...kube, leases: rec.leases(identity, kube.leases) },
      log: quietLog,
      identity,
      lease,
      onTerm: rec.onTerm(identity),
    },
  );
}

describe("leader election", () => {
  it("two operators: one leader; the standby takes over only after the Lease expired; a stop hands over at once", async (t) => {
    const rec = new ElectionRecord();
    const a = operator("a", rec);
    const b = operator("b", rec);
    let c: RunningOperator | undefined;
    try {
      const leaderId = await eventually("a leader", () => rec.terms[0]?.identity, BACKSTOP);
      const standbyId = leaderId === "a" ? "b" : "a";
      const [leader, standby] = leaderId === "a" ? [a, b] : [b, a];
      const holder = server.get("coordination.k8s.io/v1", "Lease", "default", "rtgw-leader") as {
        spec: { holderIdentity: string };
      };
      assert.equal(holder.spec.holderIdentity, leaderId);

      // Only the leader reconciles.
      await createGateway(kc, "le", { image: "x", redis: { url: "redis://r" } });
      await eventually(
        "reconciled by the leader",
        () => server.get("apps/v1", "Deployment", "default", "le"),
        BACKSTOP,
      );
      // The standby has read the Lease several times and lost each time.
      const seen = rec.getsBy(standbyId);
      await eventually("the standby campaigned", () => rec.getsBy(standbyId) >= seen + 3, BACKSTOP);
      assert.equal(standby.gateway(), undefined, "the standby runs no controller");
      assert.equal(standby.isLeader(), false);
      assert.deepEqual(
        rec.terms.map((x) => x.identity),
        [leaderId],
        "one term so far",
      );

      await leader.crash(); // stops renewing without releasing
      await eventually("failover", () => standby.isLeader(), BACKSTOP);
      const takeover = rec.history().find((w) => w.holder === standbyId);
      assert.ok(takeover);
      const expiry = rec.lastRenew(leaderId) + D;
      assert.ok(
        takeover.acquireTime >= expiry,
        `took over ${expiry - takeover.acquireTime} ms before expiry`,
      );
      assert.equal(takeover.transitions, 1);
      t.diagnostic(`failover: ${takeover.acquireTime - expiry} ms after the crashed leader's Lease expired`);
      await eventually("new leader's controller ready", () => standby.gateway()?.isReady, BACKSTOP);

      // A graceful stop releases the Lease: a fresh candidate gets it without waiting for expiry.
      c = operator("c", rec);
      await eventually("c campaigned", () => rec.getsBy("c") >= 2, BACKSTOP);
      assert.equal(c.isLeader(), false);
      await standby.stop();
      await eventually("handover", () => c?.isLeader(), BACKSTOP);
      const h = rec.history();
      const released = h.findIndex((w) => w.by === standbyId && w.holder === "");
      const acquired = h.findIndex((w) => w.holder === "c");
      assert.ok(released >= 0 && acquired > released, "released, then acquired");
      const standbyExpiry = rec.lastRenew(standbyId) + D;
      assert.ok(h[acquired]!.acquireTime < standbyExpiry, "handed over before the Lease would have expired");
      t.diagnostic(
        `handover: ${standbyExpiry - h[acquired]!.acquireTime} ms before the released Lease's expiry`,
      );
      await c.stop();
      rec.assertSafe();
    } finally {
      await a.stop();
      await b.stop();
      await c?.stop();
    }
  });

  it("a leader that cannot renew (errors, then a hung API call) stops acting before its Lease could pass, then campaigns again", async (t) => {
    const rec = new ElectionRecord();
    const solo = operator("solo", rec, "solo");
    try {
      await eventually("leading", () => solo.isLeader() && solo.gateway()?.isReady, BACKSTOP);
      server.failNext(100_000, 500, (r) => r.path.includes("/leases/"));
      await eventually("stepped down", () => rec.terms[0]?.stopped !== undefined, BACKSTOP);
      assert.equal(solo.gateway(), undefined);
      const first = rec.terms[0]!;
      const margin1 = rec.lastRenew("solo", first.stopped) + D - (first.stopped ?? 0);
      assert.ok(margin1 > 0, `acted ${-margin1} ms past its Lease`);
      server.clearFaults();
      await eventually("leading again", () => solo.isLeader() && rec.terms.length === 2, BACKSTOP);

      // A renew that never answers must not keep the leader acting either.
      rec.hang("solo");
      await eventually("stepped down again", () => rec.terms[1]?.stopped !== undefined, BACKSTOP);
      const second = rec.terms[1]!;
      const margin2 = rec.lastRenew("solo", second.stopped) + D - (second.stopped ?? 0);
      assert.ok(margin2 > 0, `acted ${-margin2} ms past its Lease`);
      rec.unhang("solo");
      await eventually("leading a third time", () => solo.isLeader() && rec.terms.length === 3, BACKSTOP);
      t.diagnostic(
        `stopped acting ${margin1} ms (errors) and ${margin2} ms (hung) before the Lease could pass`,
      );
      rec.assertSafe();
    } finally {
      server.clearFaults();
      rec.unhang("solo");
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
