// The fake API server itself, driven by the real client-node: resourceVersion, generation, 409/410, status
// separation, server-side apply ownership and conflicts, garbage collection, selectors, faults.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1ConfigMap,
  Watch,
} from "@kubernetes/client-node";
import { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { sleep } from "../../test-support/wait.js";
import { realtimeGatewayCrd } from "../src/api/crd.js";

let server: FakeApiServer;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;
let objects: KubernetesObjectApi;
/** A server-side apply of `o` as `manager` (forced or not), as client-node sends it. */
const apply = <T extends KubernetesObject>(o: T, manager: string | undefined, force: boolean | undefined) =>
  objects.patch(o, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);
const ns = "default";

before(async () => {
  server = await FakeApiServer.start({ gcDelayMs: 5, bookmarkIntervalMs: 50 });
  server.registerCrd(realtimeGatewayCrd());
  const kc = server.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  objects = KubernetesObjectApi.makeApiClient(kc);
});
after(async () => {
  await server.stop();
});

function code(e: unknown): number | undefined {
  return (e as { code?: number }).code;
}

describe("fake API server", () => {
  it("bumps one global resourceVersion per write and rejects a stale update with 409", async () => {
    const a = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "a" }, data: { x: "1" } },
    });
    const b = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "b" }, data: { x: "1" } },
    });
    assert.ok(Number(b.metadata!.resourceVersion) > Number(a.metadata!.resourceVersion));
    const a2 = await core.replaceNamespacedConfigMap({
      namespace: ns,
      name: "a",
      body: { ...a, data: { x: "2" } },
    });
    assert.notEqual(a2.metadata!.resourceVersion, a.metadata!.resourceVersion);
    await assert.rejects(
      core.replaceNamespacedConfigMap({ namespace: ns, name: "a", body: { ...a, data: { x: "3" } } }),
      (e) => code(e) === 409,
    );
    // A write that changes nothing is not a write.
    const a3 = await core.replaceNamespacedConfigMap({ namespace: ns, name: "a", body: a2 });
    assert.equal(a3.metadata!.resourceVersion, a2.metadata!.resourceVersion);
    await assert.rejects(
      core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "a" } } }),
      (e) => code(e) === 409,
    );
  });

  it("keeps status apart from spec and bumps generation on spec changes only", async () => {
    const body = {
      apiVersion: "rtgw.dev/v1alpha1",
      kind: "RealtimeGateway",
      metadata: { name: "gw", namespace: ns },
      spec: { image: "gw:1", redis: { url: "redis://r:6379" } },
      status: { replicas: 99 },
    };
    const created = (await custom.createNamespacedCustomObject({
      group: "rtgw.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "realtimegateways",
      body,
    })) as {
      metadata: { generation: number; resourceVersion: string };
      spec: { replicas: number; autoscaling: { maxReplicas: number } };
      status?: unknown;
    };
    assert.equal(created.status, undefined, "status is ignored on create");
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.spec.replicas, 2, "defaulted from the CRD schema");
    assert.equal(created.spec.autoscaling.maxReplicas, 50);
    const withStatus = (await custom.replaceNamespacedCustomObjectStatus({
      group: "rtgw.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "realtimegateways",
      name: "gw",
      body: { ...created, spec: { ...created.spec, image: "ignored:9" }, status: { replicas: 3 } },
    })) as { metadata: { generation: number }; spec: { image: string }; status: { replicas: number } };
    assert.equal(withStatus.status.replicas, 3);
    assert.equal(withStatus.spec.image, "gw:1", "a /status write changes only status");
    assert.equal(withStatus.metadata.generation, 1, "status writes do not bump generation");
    // client-node 1.x defaults patches to JSON patch: a merge patch needs its content type set explicitly.
    const patched = (await objects.patch(
      {
        apiVersion: "rtgw.dev/v1alpha1",
        kind: "RealtimeGateway",
        metadata: { name: "gw", namespace: ns },
        spec: { image: "gw:2" },
        status: { replicas: 0 },
      } as never,
      undefined,
      undefined,
      "tester",
      undefined,
      PatchStrategy.MergePatch,
    )) as { metadata: { generation: number }; status: { replicas: number } };
    assert.equal(patched.metadata.generation, 2);
    assert.equal(patched.status.replicas, 3, "status on the main resource is ignored");
  });

  it("rejects CRs that fail the schema or a CEL rule with 422", async () => {
    const bad = [
      { image: "x", redis: {} },
      { image: "x", redis: { url: "redis://a", secretRef: { name: "s", key: "k" } } },
      { image: "x", redis: { url: "redis://a" }, autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      { image: "x", redis: { url: "redis://a" }, replicas: -1 },
    ];
    for (const [i, spec] of bad.entries()) {
      await assert.rejects(
        custom.createNamespacedCustomObject({
          group: "rtgw.dev",
          version: "v1alpha1",
          namespace: ns,
          plural: "realtimegateways",
          body: {
            apiVersion: "rtgw.dev/v1alpha1",
            kind: "RealtimeGateway",
            metadata: { name: `bad-${i}` },
            spec,
          },
        }),
        (e) => code(e) === 422,
        JSON.stringify(spec),
      );
    }
  });

  it("server-side apply: ownership per manager, conflicts unless forced, removal of dropped fields", async () => {
    const cm = (data: Record<string, string>): V1ConfigMap => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ssa", namespace: ns },
      data,
    });
    await apply(cm({ a: "1", b: "1" }), "alice", true);
    // bob applies a different value for a field alice owns: conflict.
    await assert.rejects(
      apply(cm({ a: "2" }), "bob", false),
      (e) => code(e) === 409 && String((e as { body?: string }).body).includes('conflict with \\"alice\\"'),
    );
    // The same value is shared ownership, not a conflict.
    await apply(cm({ b: "1", c: "1" }), "bob", false);
    // alice drops b (bob still owns it: it stays) and a (only hers: it goes).
    const r = await apply(cm({ z: "1" }), "alice", true);
    assert.deepEqual((r as { data: Record<string, string> }).data, { b: "1", c: "1", z: "1" });
    // force takes the field over.
    const f = await apply(cm({ z: "2" }), "bob", true);
    // ...and bob's apply no longer lists b and c, which only he owned: they go.
    assert.deepEqual((f as { data: Record<string, string> }).data, { z: "2" });
    const managers = (f.metadata?.managedFields ?? []).map((m) => m.manager).sort();
    assert.deepEqual(managers, ["bob"], "alice lost her only field");
    // Re-applying the same content is not a write.
    const rv = f.metadata!.resourceVersion;
    const again = await apply(cm({ z: "2" }), "bob", true);
    assert.equal(again.metadata!.resourceVersion, rv);
    // Non-apply patches must not carry force; apply needs a field manager.
    await assert.rejects(
      objects.patch(cm({ q: "1" }), undefined, undefined, "bob", true, PatchStrategy.MergePatch),
      (e) => code(e) === 400,
    );
    await assert.rejects(apply(cm({ q: "1" }), undefined, undefined), (e) => code(e) === 400);
  });

  it("merges keyed lists by key under server-side apply", async () => {
    const dep = (containers: object[]) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: ns },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: { metadata: { labels: { a: "b" } }, spec: { containers } },
      },
    });
    await apply(dep([{ name: "main", image: "m:1" }]), "op", true);
    await apply(dep([{ name: "sidecar", image: "s:1" }]), "injector", true);
    const d = await apps.readNamespacedDeployment({ name: "d", namespace: ns });
    assert.deepEqual(d.spec!.template.spec!.containers.map((c) => c.name).sort(), ["main", "sidecar"]);
    assert.equal(d.metadata!.generation, 2);
    // A keyed item the manager no longer applies goes as a whole (not a husk without its key).
    const withVolumes = (volumes: object[]) => {
      const o = dep([{ name: "main", image: "m:1" }]);
      return {
        ...o,
        spec: { ...o.spec, template: { ...o.spec.template, spec: { ...o.spec.template.spec, volumes } } },
      };
    };
    await apply(
      withVolumes([
        { name: "tmp", emptyDir: {} },
        { name: "cfg", configMap: { name: "c" } },
      ]),
      "op",
      true,
    );
    await apply(withVolumes([{ name: "tmp", emptyDir: {} }]), "op", true);
    const after = await apps.readNamespacedDeployment({ name: "d", namespace: ns });
    assert.deepEqual(
      after.spec!.template.spec!.volumes?.map((v) => v.name),
      ["tmp"],
    );
  });

  it("watch: replays from a resourceVersion, 410 Gone after compaction, selector transitions", async () => {
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    const from = list.metadata!.resourceVersion!;
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "w1", labels: { team: "x" } } },
    });
    const events: string[] = [];
    const watch = new Watch(server.kubeConfig());
    const done = new Promise<unknown>((resolve) => {
      void watch.watch(
        `/api/v1/namespaces/${ns}/configmaps`,
        { resourceVersion: from, labelSelector: "team=x" },
        (type, obj: { metadata: { name: string } }) => {
          events.push(`${type}:${obj.metadata.name}`);
          if (events.length === 3) server.closeWatches();
        },
        resolve,
      );
    });
    await sleep(50);
    await objects.patch(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "w1", namespace: ns, labels: { team: "x", more: "1" } },
      },
      undefined,
      undefined,
      "t",
      undefined,
      PatchStrategy.MergePatch,
    );
    await objects.patch(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "w1", namespace: ns, labels: { team: "y" } } },
      undefined,
      undefined,
      "t",
      undefined,
      PatchStrategy.MergePatch,
    );
    await done;
    assert.deepEqual(events, ["ADDED:w1", "MODIFIED:w1", "DELETED:w1"]);

    server.compact();
    const gone = await new Promise<{ type: string; code: number }>((resolve) => {
      let seen = { type: "", code: 0 };
      void watch.watch(
        `/api/v1/namespaces/${ns}/configmaps`,
        { resourceVersion: from },
        (type, obj: { code: number }) => {
          seen = { type, code: obj.code };
        },
        () => resolve(seen),
      );
    });
    assert.deepEqual(gone, { type: "ERROR", code: 410 });
  });

  it("sends BOOKMARKs carrying the current resourceVersion when asked", async () => {
    const watch = new Watch(server.kubeConfig());
    const seen = await new Promise<{ type: string; rv: string }>((resolve) => {
      let stop: AbortController | undefined;
      void watch
        .watch(
          `/api/v1/namespaces/${ns}/configmaps`,
          { allowWatchBookmarks: true },
          (type, obj: { metadata: { resourceVersion: string } }) => {
            if (type === "BOOKMARK") {
              stop?.abort();
              resolve({ type, rv: obj.metadata.resourceVersion });
            }
          },
          () => undefined,
        )
        .then((c) => {
          stop = c;
        });
    });
    assert.equal(seen.rv, String(server.currentResourceVersion()));
  });

  it("serves the scale subresource and strategic merge patches of keyed lists", async () => {
    const scale = await custom.getNamespacedCustomObjectScale({
      group: "rtgw.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "realtimegateways",
      name: "gw",
    });
    assert.equal((scale as { spec: { replicas: number } }).spec.replicas, 2);
    await custom.replaceNamespacedCustomObjectScale({
      group: "rtgw.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "realtimegateways",
      name: "gw",
      body: { ...(scale as object), spec: { replicas: 4 } },
    });
    const gw = server.get("rtgw.dev/v1alpha1", "RealtimeGateway", ns, "gw") as {
      spec: { replicas: number };
      metadata: { generation: number };
    };
    assert.equal(gw.spec.replicas, 4);
    // A stale Scale write is a conflict like any other.
    await assert.rejects(
      custom.replaceNamespacedCustomObjectScale({
        group: "rtgw.dev",
        version: "v1alpha1",
        namespace: ns,
        plural: "realtimegateways",
        name: "gw",
        body: { ...(scale as object), spec: { replicas: 5 } },
      }),
      (e) => code(e) === 409,
    );
    const smp = await objects.patch(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d", namespace: ns },
        spec: { template: { spec: { containers: [{ name: "main", image: "m:2" }] } } },
      } as never,
      undefined,
      undefined,
      "kubectl",
      undefined,
      PatchStrategy.StrategicMergePatch,
    );
    const containers = (
      smp as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } }
    ).spec.template.spec.containers;
    assert.deepEqual(containers.map((c) => `${c.name}=${c.image}`).sort(), ["main=m:2", "sidecar=s:1"]);
  });

  it("garbage-collects dependents of a deleted owner", async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "owner" } },
    });
    const ref = {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "owner",
      uid: owner.metadata!.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "dep", ownerReferences: [ref] } },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: "owner" });
    for (let i = 0; i < 50 && server.get("v1", "Secret", ns, "dep"); i++) await sleep(10);
    assert.equal(server.get("v1", "Secret", ns, "dep"), undefined);
  });

  it("injects faults for the next N requests", async () => {
    server.failNext(2, 429);
    await assert.rejects(core.readNamespacedConfigMap({ namespace: ns, name: "a" }), (e) => code(e) === 429);
    await assert.rejects(core.readNamespacedConfigMap({ namespace: ns, name: "a" }), (e) => code(e) === 429);
    await core.readNamespacedConfigMap({ namespace: ns, name: "a" });
  });

  it("insists on microsecond timestamps for Lease times", async () => {
    await assert.rejects(
      objects.create({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "l", namespace: ns },
        spec: { renewTime: new Date() },
      } as never),
      (e) => code(e) === 400,
    );
  });
});
