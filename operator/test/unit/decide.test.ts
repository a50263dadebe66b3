// The pure reconcile core: decide (invalid / blocked on a Secret / what to apply), the subset comparison behind
// "no write when nothing changed", status ownership, conditions, backoff, and the work queue's guarantees.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setCondition } from "../../src/api/conditions.js";
import { parseRealtimeGateway } from "../../src/api/realtimegateway.js";
import { decide } from "../../src/controllers/gateway/decide.js";
import { nextStatus, readyCondition, statusEqual } from "../../src/controllers/gateway/status.js";
import { backoffDelay } from "../../src/runtime/backoff.js";
import { isSubset } from "../../src/runtime/compare.js";
import type { KubeObject } from "../../src/runtime/kube.js";
import { WorkQueue } from "../../src/runtime/work-queue.js";

const meta = { name: "gw", namespace: "ns", uid: "u1", generation: 4 };
const spec = { image: "i:1", redis: { url: "redis://r" } };
const parsed = (s: unknown) => parseRealtimeGateway({ metadata: meta, spec: s });
const noSecrets = () => undefined;
/** A Secret cache holding these Secrets (name → key names). */
const secrets =
  (byName: Record<string, string[]>) =>
  (_ns: string, name: string): { keys: string[] } | undefined =>
    byName[name] ? { keys: byName[name] } : undefined;
const nothingOwned = () => undefined;

describe("decide", () => {
  it("an invalid spec is reported, not applied", () => {
    const d = decide({ parsed: parsed({ image: "" }), secret: noSecrets, owned: nothingOwned });
    assert.equal(d.kind, "invalid");
  });

  it("a missing Secret or key blocks the rollout with a message naming it", () => {
    const s = { ...spec, auth: { jwtSecretRef: { name: "jwt", key: "k" } } };
    const missing = decide({ parsed: parsed(s), secret: noSecrets, owned: nothingOwned });
    assert.deepEqual(missing.kind === "blocked" && /Secret ns\/jwt not found/.test(missing.message), true);
    const noKey = decide({ parsed: parsed(s), secret: secrets({ jwt: ["other"] }), owned: nothingOwned });
    assert.deepEqual(noKey.kind === "blocked" && /has no key "k"/.test(noKey.message), true);
    const ok = decide({ parsed: parsed(s), secret: secrets({ jwt: ["k"] }), owned: nothingOwned });
    assert.equal(ok.kind, "apply");
    // Tokens checked against a JWKS alone reference no Secret: nothing to wait for.
    const jwks = { ...spec, auth: { jwksUrl: "https://id.example.com/jwks" } };
    assert.equal(decide({ parsed: parsed(jwks), secret: noSecrets, owned: nothingOwned }).kind, "apply");
  });

  it("the admin-key Secret: created when missing, never rewritten when present, blocks when it lost its key", () => {
    const cases: { name: string; cache: Record<string, string[]>; want: string }[] = [
      { name: "missing", cache: {}, want: "apply create" },
      { name: "present", cache: { "gw-admin": ["api-key"] }, want: "apply keep" },
      { name: "present with more keys", cache: { "gw-admin": ["api-key", "x"] }, want: "apply keep" },
      { name: "without its key", cache: { "gw-admin": ["other"] }, want: "blocked AdminSecretInvalid" },
      { name: "another gateway's", cache: { "other-admin": ["api-key"] }, want: "apply create" },
    ];
    for (const c of cases) {
      const d = decide({ parsed: parsed(spec), secret: secrets(c.cache), owned: nothingOwned });
      const got =
        d.kind === "apply"
          ? `apply ${d.createAdminSecret ? "create" : "keep"}`
          : `${d.kind} ${d.kind === "blocked" ? d.reason : ""}`;
      assert.equal(got, c.want, c.name);
      // The Secret is never part of what is applied: re-applying would rotate the key.
      if (d.kind === "apply") assert.ok(!d.desired.some((o) => o.kind === "Secret"), c.name);
      if (d.kind === "blocked") assert.match(d.message, /Secret ns\/gw-admin has no key "api-key"/);
    }
  });

  it("applies everything at first, nothing once the live objects match, and only what drifted", () => {
    const first = decide({ parsed: parsed(spec), secret: noSecrets, owned: nothingOwned });
    assert.ok(first.kind === "apply");
    assert.deepEqual(
      first.changed.map((o) => o.kind),
      ["ConfigMap", "Service", "Service", "PodDisruptionBudget", "NetworkPolicy", "Deployment"],
    );
    // The server adds defaults and bookkeeping: still "no change".
    const live = new Map(
      first.desired.map((o) => [
        `${o.kind}/${o.metadata.name}`,
        {
          ...structuredClone(o),
          metadata: { ...structuredClone(o.metadata), uid: "x", resourceVersion: "9" },
          status: {},
        } as unknown as KubeObject,
      ]),
    );
    const dep = live.get("Deployment/gw") as unknown as {
      spec: { template: { spec: { dnsPolicy?: string } } };
    };
    dep.spec.template.spec.dnsPolicy = "ClusterFirst";
    const owned = (kind: string, _ns: string, name: string) => live.get(`${kind}/${name}`);
    const same = decide({ parsed: parsed(spec), secret: noSecrets, owned });
    assert.ok(same.kind === "apply");
    assert.deepEqual(same.changed, []);
    // Someone scaled the Deployment by hand: only the Deployment is re-applied.
    (live.get("Deployment/gw") as unknown as { spec: { replicas: number } }).spec.replicas = 9;
    const drift = decide({ parsed: parsed(spec), secret: noSecrets, owned });
    assert.ok(drift.kind === "apply");
    assert.deepEqual(
      drift.changed.map((o) => o.kind),
      ["Deployment"],
    );
    // A field removed from the render (auth turned off) changes the applied hash even though live ⊇ desired.
    const withAuth = decide({
      parsed: parsed({ ...spec, auth: { jwtSecretRef: { name: "j", key: "k" } } }),
      secret: secrets({ j: ["k"] }),
      owned,
    });
    assert.ok(withAuth.kind === "apply" && withAuth.changed.some((o) => o.kind === "Deployment"));
  });

  it("the config-file ConfigMap: rendered with spec.namespaces, obsolete (ours only) once they go; hook Secrets checked", () => {
    const withNs = { ...spec, namespaces: { chat: { historySize: 0 } } };
    const first = decide({ parsed: parsed(withNs), secret: noSecrets, owned: nothingOwned });
    assert.ok(first.kind === "apply");
    assert.deepEqual(
      first.changed.filter((o) => o.kind === "ConfigMap").map((o) => o.metadata.name),
      ["gw-config", "gw-config-file"],
    );
    assert.deepEqual(first.obsolete, []);
    const rendered = first.desired.find((o) => o.metadata.name === "gw-config-file") as unknown as KubeObject;
    const file = { ...rendered, metadata: { ...rendered.metadata, uid: "cm-uid" } };
    const theirs = { ...file, metadata: { ...file.metadata, ownerReferences: [] } };
    const owned = (o: KubeObject | undefined) => (kind: string, _ns: string, name: string) =>
      kind === "ConfigMap" && name === "gw-config-file" ? o : undefined;
    const gone = decide({ parsed: parsed(spec), secret: noSecrets, owned: owned(file) });
    assert.ok(gone.kind === "apply");
    assert.deepEqual(gone.obsolete, [
      { kind: "ConfigMap", namespace: "ns", name: "gw-config-file", uid: "cm-uid" },
    ]);
    const notOurs = decide({ parsed: parsed(spec), secret: noSecrets, owned: owned(theirs) });
    assert.ok(notOurs.kind === "apply");
    assert.deepEqual(notOurs.obsolete, [], "a ConfigMap this gateway does not control is left alone");
    const still = decide({ parsed: parsed(withNs), secret: noSecrets, owned: owned(file) });
    assert.ok(still.kind === "apply");
    assert.deepEqual(still.obsolete, []);
    // A hook's secret header blocks like any referenced Secret until its key exists.
    const hooked = {
      ...spec,
      proxy: {
        connect: { url: "http://b/c", secretHeaders: { Authorization: { name: "hooks", key: "connect" } } },
      },
    };
    const blocked = decide({ parsed: parsed(hooked), secret: noSecrets, owned: nothingOwned });
    assert.ok(blocked.kind === "blocked");
    assert.match(blocked.message, /proxy\.connect\.secretHeaders\.Authorization: Secret ns\/hooks not found/);
    const ready = decide({
      parsed: parsed(hooked),
      secret: secrets({ hooks: ["connect"] }),
      owned: nothingOwned,
    });
    assert.equal(ready.kind, "apply");
  });

  it("a NetworkPolicy switched off or an Ingress dropped: obsolete when this gateway controls it, else left alone", () => {
    const withBoth = { ...spec, ingress: { host: "rt.example.com" } };
    const first = decide({ parsed: parsed(withBoth), secret: noSecrets, owned: nothingOwned });
    assert.ok(first.kind === "apply");
    const live = (kind: string, ownerReferences: object[]) => {
      const o = first.desired.find((d) => d.kind === kind) as unknown as KubeObject;
      return { ...o, metadata: { ...o.metadata, uid: `${kind}-uid`, ownerReferences } } as KubeObject;
    };
    const ours = (kind: string) => live(kind, first.desired[0]?.metadata.ownerReferences ?? []);
    const ref = { apiVersion: "rtgw.dev/v1alpha1", kind: "RealtimeGateway", name: "gw" };
    const cases: { name: string; spec: object; owner: (kind: string) => KubeObject; want: string[] }[] = [
      { name: "both still rendered", spec: withBoth, owner: ours, want: [] },
      {
        name: "NetworkPolicy off, Ingress gone",
        spec: { ...spec, networkPolicy: { enabled: false } },
        owner: ours,
        want: ["NetworkPolicy gw NetworkPolicy-uid", "Ingress gw Ingress-uid"],
      },
      { name: "Ingress gone", spec, owner: ours, want: ["Ingress gw Ingress-uid"] },
      {
        name: "owned but not controlled",
        spec: { ...spec, networkPolicy: { enabled: false } },
        owner: (kind) => live(kind, [{ ...ref, uid: "u1", controller: false }]),
        want: [],
      },
      {
        name: "controlled by another gateway of the same name (an earlier uid)",
        spec: { ...spec, networkPolicy: { enabled: false } },
        owner: (kind) => live(kind, [{ ...ref, uid: "u0", controller: true }]),
        want: [],
      },
      {
        name: "no owner reference (made by hand under the name)",
        spec: { ...spec, networkPolicy: { enabled: false } },
        owner: (kind) => live(kind, []),
        want: [],
      },
    ];
    for (const c of cases) {
      const owned = (kind: string, _ns: string, name: string) =>
        name === "gw" && (kind === "NetworkPolicy" || kind === "Ingress") ? c.owner(kind) : undefined;
      const d = decide({ parsed: parsed(c.spec), secret: noSecrets, owned });
      assert.ok(d.kind === "apply", c.name);
      assert.deepEqual(
        d.obsolete.map((o) => `${o.kind} ${o.name} ${o.uid}`),
        c.want,
        c.name,
      );
    }
  });

  it("isSubset: defaults tolerated, values and list lengths compared, int-or-string equal", () => {
    assert.equal(isSubset({ a: 1, b: { c: "x" } }, { a: 1, b: { c: "x", d: 2 }, e: 3 }), true);
    assert.equal(isSubset({ a: 1 }, { a: 2 }), false);
    assert.equal(isSubset({ l: [1, 2] }, { l: [1, 2, 3] }), false);
    assert.equal(isSubset({ port: 80 }, { port: "80" }), true);
    assert.equal(isSubset({ a: { b: 1 } }, {}), false);
    // Quantities as the API server canonicalizes them.
    assert.equal(isSubset({ cpu: "1000m", memory: "1024Mi" }, { cpu: "1", memory: "1Gi" }), true);
    assert.equal(isSubset({ cpu: "500m" }, { cpu: "1" }), false);
    assert.equal(isSubset({ image: "a:1" }, { image: "a:2" }), false);
  });
});

describe("status", () => {
  const gw = (() => {
    const p = parsed(spec);
    assert.ok(p.ok);
    return p.gateway;
  })();
  const dep = (status: object, generation = 1) =>
    ({ metadata: { name: "gw", generation }, status }) as unknown as KubeObject;

  it("Ready follows the Deployment's rollout", () => {
    assert.equal(readyCondition(gw, undefined).reason, "DeploymentMissing");
    assert.equal(readyCondition(gw, dep({ observedGeneration: 0 })).reason, "RolloutInProgress");
    assert.equal(
      readyCondition(gw, dep({ observedGeneration: 1, updatedReplicas: 2, readyReplicas: 1 })).reason,
      "ReplicasNotReady",
    );
    const ok = readyCondition(gw, dep({ observedGeneration: 1, updatedReplicas: 2, readyReplicas: 2 }));
    assert.deepEqual([ok.status, ok.reason], ["True", "AllReplicasReady"]);
  });

  it("changes only our fields; the autoscaler's fields and Scaling condition pass through", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const current = {
      connections: 1234,
      desiredReplicas: 5,
      lastScaleTime: "2025-12-31T00:00:00Z",
      conditions: [
        {
          type: "Scaling",
          status: "True" as const,
          reason: "ScaledUp",
          message: "m",
          lastTransitionTime: "2025-12-31T00:00:00Z",
        },
      ],
    };
    const s = nextStatus({
      current,
      gateway: { generation: 4, selector: "a=b" },
      deployment: dep({ replicas: 2, readyReplicas: 1 }),
      ready: readyCondition(gw, dep({ replicas: 2, readyReplicas: 1 })),
      degraded: { status: "False", reason: "ReconcileSucceeded", message: "ok" },
      now,
    });
    assert.equal(s.connections, 1234);
    assert.equal(s.desiredReplicas, 5);
    assert.equal(s.lastScaleTime, "2025-12-31T00:00:00Z");
    assert.deepEqual(
      s.conditions?.map((c) => c.type),
      ["Scaling", "Ready", "Degraded"],
    );
    assert.equal(s.observedGeneration, 4);
    assert.equal(s.selector, "a=b");
    assert.equal(s.replicas, 2);
    assert.equal(statusEqual(s, structuredClone(s)), true);
    assert.equal(statusEqual(s, { ...s, readyReplicas: 2 }), false);
  });

  it("setCondition moves lastTransitionTime only when the status flips", () => {
    const t1 = new Date("2026-01-01T00:00:00Z");
    const t2 = new Date("2026-01-01T01:00:00Z");
    const a = setCondition([], { type: "Ready", status: "False", reason: "A", message: "" }, t1);
    const b = setCondition(a, { type: "Ready", status: "False", reason: "B", message: "changed" }, t2);
    assert.equal(b[0]!.lastTransitionTime, "2026-01-01T00:00:00Z");
    assert.equal(b[0]!.reason, "B");
    const c = setCondition(b, { type: "Ready", status: "True", reason: "C", message: "" }, t2);
    assert.equal(c[0]!.lastTransitionTime, "2026-01-01T01:00:00Z");
    assert.equal(c.length, 1);
  });
});

describe("backoff and work queue", () => {
  it("backoff grows exponentially, is capped, and is never zero", () => {
    const p = { baseMs: 100, maxMs: 1000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, p, () => 1)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.deepEqual(
      [1, 2, 3].map((n) => backoffDelay(n, p, () => 0)),
      [50, 100, 200],
    );
  });

  it("deduplicates keys and never runs one key twice at once; an add during a run runs once more", async () => {
    const running = new Set<string>();
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const q = new WorkQueue({
      concurrency: 1,
      process: async (key) => {
        assert.ok(!running.has(key), `${key} ran concurrently`);
        running.add(key);
        runs.push(key);
        if (runs.length === 1) await gate;
        running.delete(key);
        return undefined;
      },
    });
    q.start();
    q.add("a"); // starts at once and blocks on the gate
    q.add("b");
    q.add("b"); // deduplicated: b is already queued
    q.add("c");
    q.add("a"); // a is running: it runs once more afterwards, not concurrently
    q.add("a");
    assert.equal(q.depth, 2);
    release();
    while (runs.length < 4) await new Promise((r) => setImmediate(r));
    await q.shutdown();
    assert.deepEqual(runs, ["a", "b", "c", "a"]);
  });
});
