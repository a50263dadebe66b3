// Owned objects a spec switches off, end to end against the fake API server: the NetworkPolicy (networkPolicy.enabled
// false) and the Ingress (spec.ingress removed) are deleted with a Deleted Event; an object under the same name the
// gateway does not control (no controller owner reference with its uid) is never deleted; and the delete carries a
// uid precondition, so an object recreated since under the name stays.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CustomObjectsApi,
  type KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { GROUP, PLURAL, VERSION } from "../src/api/realtimegateway.js";
import { type RunningOperator, startOperator } from "../src/main.js";
import { FIELD_MANAGER } from "../src/render/labels.js";
import { kubeFromConfig } from "../src/runtime/kube.js";
import { OWNED_RESOURCES } from "../src/runtime/resources.js";
import { eventually, fakeCluster, gatewayCr, quietLog } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
type Obj = Record<string, any>;

const ns = "default";
const gvr = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
let server: FakeApiServer;
let kc: KubeConfig;
let op: RunningOperator;
let custom: CustomObjectsApi;
let net: NetworkingV1Api;

const get = (kind: "NetworkPolicy" | "Ingress", name: string) =>
  server.get("networking.k8s.io/v1", kind, ns, name) as Obj | undefined;
const getGw = (name: string) =>
  server.get(`${GROUP}/${VERSION}`, "RealtimeGateway", ns, name) as Obj | undefined;
const mergePatchSpec = (name: string, spec: Obj) =>
  custom.patchNamespacedCustomObject(
    { ...gvr, name, body: { spec } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
/** The reconcile of the gateway's current generation finished (Degraded False at that generation). */
const reconciled = (name: string) => {
  const gw = getGw(name);
  return (gw?.status?.conditions ?? []).some(
    (c: Obj) =>
      c.type === "Degraded" &&
      c.status === "False" &&
      c.observedGeneration === gw?.metadata.generation &&
      gw?.status?.observedGeneration === gw?.metadata.generation,
  );
};
const deletedEvents = (name: string) =>
  (server.list("v1", "Event", ns) as Obj[])
    .filter((e) => e.involvedObject?.name === name && e.reason === "Deleted")
    .map((e) => e.message as string);

before(async () => {
  ({ server, kc } = await fakeCluster({ bookmarkIntervalMs: 200 }));
  custom = kc.makeApiClient(CustomObjectsApi);
  net = kc.makeApiClient(NetworkingV1Api);
  op = startOperator(
    { leaderElect: false, leaseName: "x", logLevel: "info", metricsPort: 0 },
    { kube: kubeFromConfig(kc), log: quietLog, backoff: { baseMs: 100, maxMs: 800 }, resyncMs: 3_600_000 },
  );
  await eventually("controller ready", () => op.gateway()?.isReady);
});
after(async () => {
  await op.stop();
  await server.stop();
});

describe("owned objects switched off, against the fake API server", () => {
  it("the NetworkPolicy switched off and the Ingress removed are deleted, with a Deleted Event each", async () => {
    await custom.createNamespacedCustomObject({
      ...gvr,
      body: gatewayCr("off", {
        image: "rtgw:1",
        redis: { url: "redis://redis:6379" },
        ingress: { host: "rt.example.com" },
      }),
    });
    const np = await eventually("the NetworkPolicy", () => get("NetworkPolicy", "off"));
    const ing = await eventually("the Ingress", () => get("Ingress", "off"));
    assert.equal(np.metadata.ownerReferences[0].uid, getGw("off")?.metadata.uid);
    assert.equal(ing.metadata.ownerReferences[0].controller, true);

    await mergePatchSpec("off", { networkPolicy: { enabled: false } });
    await eventually("the NetworkPolicy deleted", () => get("NetworkPolicy", "off") === undefined);
    assert.ok(get("Ingress", "off"), "the Ingress is still rendered");
    await mergePatchSpec("off", { ingress: null });
    await eventually("the Ingress deleted", () => get("Ingress", "off") === undefined);
    await eventually("a Deleted Event for each", () => deletedEvents("off").length === 2);
    assert.deepEqual(deletedEvents("off").sort(), [
      "deleted Ingress off (the spec no longer renders it)",
      "deleted NetworkPolicy off (the spec no longer renders it)",
    ]);

    // Switched on again: rendered again.
    await mergePatchSpec("off", { networkPolicy: { enabled: true } });
    await eventually("the NetworkPolicy back", () => get("NetworkPolicy", "off"));
  });

  it("an object under the name the gateway does not control is left alone", async () => {
    // Labelled like ours (so the operator's cache holds them), but one has no owner reference and the other's
    // controller is an earlier RealtimeGateway of the same name (another uid).
    const labels = { "app.kubernetes.io/managed-by": FIELD_MANAGER, "app.kubernetes.io/instance": "keep" };
    await net.createNamespacedNetworkPolicy({
      namespace: ns,
      body: { metadata: { name: "keep", labels }, spec: { podSelector: {}, policyTypes: ["Ingress"] } },
    });
    await net.createNamespacedIngress({
      namespace: ns,
      body: {
        metadata: {
          name: "keep",
          labels,
          ownerReferences: [
            {
              apiVersion: `${GROUP}/${VERSION}`,
              kind: "RealtimeGateway",
              name: "keep",
              uid: "an-earlier-gateway",
              controller: true,
            },
          ],
        },
        spec: { defaultBackend: { service: { name: "someone-else", port: { number: 80 } } } },
      },
    });
    await custom.createNamespacedCustomObject({
      ...gvr,
      body: gatewayCr("keep", {
        image: "rtgw:1",
        redis: { url: "redis://redis:6379" },
        networkPolicy: { enabled: false },
      }),
    });
    await eventually("reconciled", () => reconciled("keep"));
    // A later reconcile (a spec edit) does not delete them either.
    await mergePatchSpec("keep", { replicas: 3 });
    await eventually(
      "reconciled again",
      () => reconciled("keep") && getGw("keep")?.metadata.generation === 2,
    );
    assert.ok(get("NetworkPolicy", "keep"), "the ownerless NetworkPolicy stays");
    assert.ok(get("Ingress", "keep"), "another controller's Ingress stays");
    assert.deepEqual(deletedEvents("keep"), []);
  });

  it("deleteObject: only the object with the uid the decision saw", async () => {
    const kube = kubeFromConfig(kc);
    const res = OWNED_RESOURCES.find((r) => r.kind === "NetworkPolicy")!;
    await net.createNamespacedNetworkPolicy({
      namespace: ns,
      body: { metadata: { name: "recreated" }, spec: { podSelector: {} } },
    });
    const uid = get("NetworkPolicy", "recreated")?.metadata.uid as string;
    assert.equal(await kube.deleteObject(res, ns, "recreated", "another-uid"), false);
    assert.ok(get("NetworkPolicy", "recreated"), "a uid mismatch deletes nothing");
    assert.equal(await kube.deleteObject(res, ns, "recreated", uid), true);
    assert.equal(get("NetworkPolicy", "recreated"), undefined);
    assert.equal(await kube.deleteObject(res, ns, "recreated", uid), false, "already gone");
  });
});
