// The operator end to end against the fake API server, over HTTP with the real client-node: create, edit, delete,
// Secrets, watch expiry, API errors, no-op reconciles, invalid CRs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { GROUP, PLURAL, VERSION } from "../src/api/realtimegateway.js";
import { startOperator } from "../src/main.js";
import { kubeFromConfig } from "../src/runtime/kube.js";
import { eventually, fakeCluster, gatewayCr, quietLog, sleep } from "./helpers.js";
import { type OperatorOnFakeCluster, operatorOnFakeCluster } from "./operator-support.js";

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
type Obj = Record<string, any>;

const ns = "default";
let server: FakeApiServer;
let kc: KubeConfig;
let cluster: OperatorOnFakeCluster;
let custom: CustomObjectsApi;
let core: CoreV1Api;

const gvr = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };

const getGw = (name: string) =>
  server.get(`${GROUP}/${VERSION}`, "RealtimeGateway", ns, name) as Obj | undefined;
const getDep = (name: string) => server.get("apps/v1", "Deployment", ns, name) as Obj | undefined;
const condition = (gw: Obj | undefined, type: string) =>
  (gw?.status?.conditions ?? []).find((c: Obj) => c.type === type);
const eventsFor = (name: string) =>
  (server.list("v1", "Event", ns) as Obj[])
    .filter((e) => e.involvedObject?.name === name)
    .map((e) => `${e.type}/${e.reason}`);

async function mergePatchSpec(name: string, spec: Obj) {
  const { setHeaderOptions, PatchStrategy } = await import("@kubernetes/client-node");
  await custom.patchNamespacedCustomObject(
    { ...gvr, name, body: { spec } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** What the Deployment controller would write: the rollout of the current generation, all pods ready. */
async function simulateRollout(name: string, ready?: number) {
  const dep = getDep(name)!;
  const { AppsV1Api } = await import("@kubernetes/client-node");
  const apps = kc.makeApiClient(AppsV1Api);
  const n = dep.spec.replicas;
  await apps.replaceNamespacedDeploymentStatus({
    namespace: ns,
    name,
    body: {
      ...dep,
      status: {
        observedGeneration: dep.metadata.generation,
        replicas: n,
        updatedReplicas: n,
        readyReplicas: ready ?? n,
        availableReplicas: ready ?? n,
      },
    },
  });
}

before(async () => {
  cluster = await operatorOnFakeCluster();
  ({ server, kc } = cluster);
  custom = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
});
after(() => cluster.stop());

describe("operator against the fake API server", () => {
  it("create → owned objects with owner references, status with selector and observedGeneration", async () => {
    await custom.createNamespacedCustomObject({
      ...gvr,
      body: gatewayCr("chat", { image: "rtgw:1", redis: { url: "redis://redis:6379" } }),
    });
    const gw = await eventually("status written", () => {
      const g = getGw("chat");
      return g?.status?.observedGeneration === 1 ? g : undefined;
    });
    const uid = gw.metadata.uid;
    for (const [apiVersion, kind, name] of [
      ["apps/v1", "Deployment", "chat"],
      ["v1", "Service", "chat"],
      ["v1", "Service", "chat-pods"],
      ["policy/v1", "PodDisruptionBudget", "chat"],
      ["v1", "ConfigMap", "chat-config"],
    ] as const) {
      const o = server.get(apiVersion, kind, ns, name) as Obj | undefined;
      assert.ok(o, `${kind} ${name} exists`);
      assert.deepEqual(o.metadata.ownerReferences, [
        {
          apiVersion: "rtgw.dev/v1alpha1",
          kind: "RealtimeGateway",
          name: "chat",
          uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.ok(
        o.metadata.managedFields.some((m: Obj) => m.manager === "rtgw-operator" && m.operation === "Apply"),
        `${kind} applied`,
      );
    }
    assert.equal(
      gw.status.selector,
      "app.kubernetes.io/instance=chat,app.kubernetes.io/name=realtime-gateway",
    );
    assert.equal(condition(gw, "Degraded").status, "False");
    assert.equal(condition(gw, "Ready").status, "False");
    assert.equal(getDep("chat")!.spec.replicas, 2);
    // The Deployment controller reports a finished rollout: Ready turns True, replicas are mirrored.
    await simulateRollout("chat");
    const ready = await eventually("Ready", () => {
      const g = getGw("chat");
      return condition(g, "Ready")?.status === "True" ? g : undefined;
    });
    assert.equal(ready.status.readyReplicas, 2);
    assert.ok(eventsFor("chat").includes("Normal/Created"));
  });

  it("writes nothing when nothing changed", async () => {
    await sleep(200);
    const before = server.writes().length;
    cluster.op.gateway()!.resyncAll();
    await sleep(300);
    // A metadata-only change does not bump generation: no reconcile writes either.
    await custom.patchNamespacedCustomObject(
      { ...gvr, name: "chat", body: { metadata: { annotations: { note: "x" } } } },
      (await import("@kubernetes/client-node")).setHeaderOptions(
        "Content-Type",
        "application/merge-patch+json",
      ),
    );
    cluster.op.gateway()!.resyncAll();
    await sleep(300);
    const extra = server
      .writes()
      .slice(before)
      .filter((w) => !w.path.endsWith("/realtimegateways/chat"));
    assert.deepEqual(
      extra.map((w) => `${w.method} ${w.path}`),
      [],
    );
  });

  it("edit spec → Deployment updated, generation observed, scale subresource honoured", async () => {
    await mergePatchSpec("chat", { image: "rtgw:2", drain: { seconds: 60 } });
    const dep = await eventually("new image", () => {
      const d = getDep("chat");
      return d?.spec.template.spec.containers[0].image === "rtgw:2" ? d : undefined;
    });
    assert.equal(dep.spec.template.spec.terminationGracePeriodSeconds, 75);
    await eventually("generation 2 observed", () => getGw("chat")?.status?.observedGeneration === 2);
    // kubectl scale / the autoscaler write spec.replicas through /scale.
    const { setHeaderOptions } = await import("@kubernetes/client-node");
    await custom.patchNamespacedCustomObjectScale(
      { ...gvr, name: "chat", body: { spec: { replicas: 5 } }, fieldManager: "kubectl" },
      setHeaderOptions("Content-Type", "application/merge-patch+json"),
    );
    await eventually("Deployment scaled", () => getDep("chat")?.spec.replicas === 5);
    await eventually("generation 3 observed", () => getGw("chat")?.status?.observedGeneration === 3);
  });

  it("drift: a hand edit of an owned field is taken back (server-side apply with force)", async () => {
    const { AppsV1Api, setHeaderOptions } = await import("@kubernetes/client-node");
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: "chat", body: { spec: { replicas: 1 } }, fieldManager: "kubectl-edit" },
      setHeaderOptions("Content-Type", "application/merge-patch+json"),
    );
    await eventually("replicas restored", () => getDep("chat")?.spec.replicas === 5);
    const owners = (getDep("chat")!.metadata.managedFields as Obj[]).filter(
      (m) => m.fieldsV1?.["f:spec"]?.["f:replicas"],
    );
    assert.deepEqual(
      owners.map((m) => m.manager),
      ["rtgw-operator"],
    );
  });

  it("the admin-key Secret: created once, unchanged by reconciles, edits and a new operator, recreated when deleted", async () => {
    const getSecret = () => server.get("v1", "Secret", ns, "chat-admin") as Obj | undefined;
    const first = getSecret();
    assert.ok(first, "created with the gateway's other objects");
    const gw = getGw("chat")!;
    assert.deepEqual(first.metadata.ownerReferences, [
      {
        apiVersion: "rtgw.dev/v1alpha1",
        kind: "RealtimeGateway",
        name: "chat",
        uid: gw.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const encoded = first.data["api-key"] as string;
    const key = Buffer.from(encoded, "base64").toString();
    assert.ok(key.length >= 32, "a random key");
    const env = getDep("chat")!.spec.template.spec.containers[0].env as Obj[];
    assert.deepEqual(env.find((e) => e.name === "RTGW_ADMIN_KEY")!.valueFrom, {
      secretKeyRef: { name: "chat-admin", key: "api-key" },
    });
    const created = () =>
      (server.list("v1", "Event", ns) as Obj[]).filter(
        (e) => e.involvedObject?.name === "chat" && /created Secret chat-admin/.test(e.message),
      ).length;
    assert.equal(created(), 1);

    // A spec edit re-renders everything; observedGeneration says the reconcile finished.
    const unchanged = () => {
      const s = getSecret()!;
      assert.equal(s.metadata.uid, first.metadata.uid);
      assert.equal(s.metadata.resourceVersion, first.metadata.resourceVersion, "never rewritten");
      assert.equal(s.data["api-key"], encoded);
    };
    const generation = getGw("chat")!.metadata.generation as number;
    await mergePatchSpec("chat", { limits: { maxMessageBytes: 32768 } });
    await eventually("edit observed", () => getGw("chat")?.status?.observedGeneration === generation + 1);
    unchanged();
    // A new operator (a failover, an upgrade) renders from scratch: still the same Secret.
    await cluster.restart();
    await mergePatchSpec("chat", { limits: { maxMessageBytes: 65536 } });
    await eventually("edit observed", () => getGw("chat")?.status?.observedGeneration === generation + 2);
    unchanged();
    assert.equal(created(), 1);

    // Deleted: created again at the next reconcile (Secrets are read by name, never watched: least privilege; in
    // production the resync safety net, here asked for at once), with a new key, and the pods still reference it.
    await core.deleteNamespacedSecret({ namespace: ns, name: "chat-admin" });
    cluster.op.gateway()?.resyncAll();
    const second = await eventually("recreated", () => {
      const s = getSecret();
      return s && s.metadata.uid !== first.metadata.uid ? s : undefined;
    });
    assert.notEqual(second.data["api-key"], encoded);
    assert.equal(second.metadata.ownerReferences[0].uid, gw.metadata.uid);
    await eventually("Event", () => created() === 2);
    const env2 = getDep("chat")!.spec.template.spec.containers[0].env as Obj[];
    assert.deepEqual(env2.find((e) => e.name === "RTGW_ADMIN_KEY")!.valueFrom, {
      secretKeyRef: { name: "chat-admin", key: "api-key" },
    });

    // Never copied anywhere readable: no ConfigMap, Event or status holds either key.
    const readable = JSON.stringify([
      server.list("v1", "ConfigMap", ns),
      server.list("v1", "Event", ns),
      server.list(`${GROUP}/${VERSION}`, "RealtimeGateway", ns),
    ]);
    for (const k of [
      encoded,
      key,
      second.data["api-key"],
      Buffer.from(second.data["api-key"], "base64").toString(),
    ])
      assert.ok(!readable.includes(k), "an admin key leaked");
  });

  it("a missing Secret → Degraded + Event; recovered when the Secret appears", async () => {
    await custom.createNamespacedCustomObject({
      ...gvr,
      body: gatewayCr("secure", {
        image: "rtgw:1",
        redis: { secretRef: { name: "redis-url", key: "url" } },
        auth: { jwtSecretRef: { name: "jwt", key: "secret" } },
      }),
    });
    const gw = await eventually("Degraded", () => {
      const g = getGw("secure");
      return condition(g, "Degraded")?.status === "True" ? g : undefined;
    });
    assert.equal(condition(gw, "Degraded").reason, "SecretMissing");
    assert.match(condition(gw, "Degraded").message, /Secret default\/redis-url not found/);
    assert.equal(getDep("secure"), undefined, "nothing rolled out that could not start");
    await eventually("Warning event", () => eventsFor("secure").includes("Warning/SecretMissing"));
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "redis-url" }, stringData: { url: "redis://:pw@r:6379" } },
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "jwt" }, data: { wrong: "eA==" } },
    });
    await eventually("missing key reported", () =>
      /has no key "secret"/.test(condition(getGw("secure"), "Degraded")?.message ?? ""),
    );
    await core.replaceNamespacedSecret({
      namespace: ns,
      name: "jwt",
      body: { metadata: { name: "jwt" }, data: { secret: "c2VjcmV0" } },
    });
    await eventually("recovered", () => condition(getGw("secure"), "Degraded")?.status === "False");
    const env = getDep("secure")!.spec.template.spec.containers[0].env as Obj[];
    assert.deepEqual(env.find((e) => e.name === "RTGW_JWT_SECRET")!.valueFrom, {
      secretKeyRef: { name: "jwt", key: "secret" },
    });
    assert.deepEqual(env.find((e) => e.name === "RTGW_REDIS_URL")!.valueFrom, {
      secretKeyRef: { name: "redis-url", key: "url" },
    });
    assert.ok(!JSON.stringify(server.list("v1", "ConfigMap", ns)).includes("c2VjcmV0"));
    await eventually("Recovered event", () => eventsFor("secure").includes("Normal/Recovered"));
    // One event per distinct problem (e.g. both missing; jwt missing; jwt without its key), not one per reconcile.
    const messages = (server.list("v1", "Event", ns) as Obj[])
      .filter((e) => e.involvedObject?.name === "secure" && e.reason === "SecretMissing")
      .map((e) => e.message as string);
    assert.ok(messages.length >= 2);
    assert.equal(new Set(messages).size, messages.length, messages.join("\n"));
  });

  it("a watch expiring (410 Gone) → re-list, no change missed", async () => {
    const gwc = cluster.op.gateway()!;
    const listsBefore = gwc.gateways.lists;
    // Hold the watches down, change the spec, compact the history past it: resuming can only end in 410 Gone.
    server.failNext(1000, 500, (r) => r.watch);
    server.closeWatches();
    await mergePatchSpec("chat", { image: "rtgw:3" });
    server.compact();
    server.clearFaults();
    await eventually("re-listed", () => gwc.gateways.lists > listsBefore);
    assert.ok(
      server.requests.some((r) => r.watch && r.status === 200),
      "watches resumed",
    );
    await eventually(
      "change applied",
      () => getDep("chat")?.spec.template.spec.containers[0].image === "rtgw:3",
    );
  });

  it("API errors → retries with backoff, not a hot loop; converges afterwards", async () => {
    const start = server.requests.length;
    server.failNext(1000, 500, (r) => r.method === "PATCH" && r.path.includes("/deployments/"));
    await mergePatchSpec("chat", { image: "rtgw:4" });
    await sleep(1500);
    const attempts = server.requests
      .slice(start)
      .filter((r) => r.method === "PATCH" && r.path.includes("/deployments/")).length;
    // Backoff 100ms doubling to 800ms: about 5 tries in 1.5s; a hot loop would make hundreds.
    assert.ok(attempts >= 2 && attempts <= 8, `attempts: ${attempts}`);
    await eventually(
      "Degraded ApplyFailed",
      () => condition(getGw("chat"), "Degraded")?.reason === "ApplyFailed",
    );
    server.clearFaults();
    await eventually(
      "converged",
      () => getDep("chat")?.spec.template.spec.containers[0].image === "rtgw:4",
      5000,
    );
    await eventually("Degraded cleared", () => condition(getGw("chat"), "Degraded")?.status === "False");
  });

  it("delete → owned objects garbage-collected", async () => {
    await custom.deleteNamespacedCustomObject({ ...gvr, name: "chat" });
    await eventually(
      "GC",
      () =>
        !getDep("chat") &&
        !server.get("v1", "ConfigMap", ns, "chat-config") &&
        !server.get("v1", "Service", ns, "chat"),
    );
    assert.equal(server.get("policy/v1", "PodDisruptionBudget", ns, "chat"), undefined);
    await eventually("admin Secret GC", () => !server.get("v1", "Secret", ns, "chat-admin"));
  });

  it("an invalid CR that got past the API server lands as Degraded, never a crash", async () => {
    const { server: lax, kc: laxKc } = await fakeCluster({ validate: false });
    const laxOp = startOperator(
      { leaderElect: false, leaseName: "x", logLevel: "info", metricsPort: 0 },
      { kube: kubeFromConfig(laxKc), log: quietLog },
    );
    try {
      const laxCustom = laxKc.makeApiClient(CustomObjectsApi);
      await laxCustom.createNamespacedCustomObject({
        ...gvr,
        body: gatewayCr("bad", {
          image: "x",
          redis: { url: "redis://a", secretRef: { name: "s", key: "k" } },
          autoscaling: { minReplicas: 9, maxReplicas: 3 },
        }),
      });
      await laxCustom.createNamespacedCustomObject({
        ...gvr,
        body: gatewayCr("good", { image: "x", redis: { url: "redis://a" } }),
      });
      const bad = await eventually("Degraded", () => {
        const g = lax.get(`${GROUP}/${VERSION}`, "RealtimeGateway", ns, "bad") as Obj | undefined;
        return condition(g, "Degraded")?.reason === "InvalidSpec" ? g : undefined;
      });
      assert.match(condition(bad, "Degraded").message, /exactly one of redis.url or redis.secretRef/);
      assert.match(condition(bad, "Degraded").message, /minReplicas must be <= autoscaling.maxReplicas/);
      await eventually("the valid one is still served", () => lax.get("apps/v1", "Deployment", ns, "good"));
    } finally {
      await laxOp.stop();
      await lax.stop();
    }
  });
});
