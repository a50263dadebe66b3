// spec.namespaces and spec.proxy end to end against the fake API server: the config-file ConfigMap is created with
// the spec's namespaces and hooks (secret headers mounted from their Secret, never in the file), updated when they
// change (the pods roll: the config hash moves), and deleted when the spec drops them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { parseConfigFile } from "../../gateway/src/namespaces/config-file.js";
import { GROUP, PLURAL, VERSION } from "../src/api/realtimegateway.js";
import { CONFIG_FILE_KEY, CONFIG_FILE_PATH } from "../src/render/config-file.js";
import { CONFIG_HASH_ANNOTATION } from "../src/render/deployment.js";
import { eventually, gatewayCr } from "./helpers.js";
import { type OperatorOnFakeCluster, operatorOnFakeCluster } from "./operator-support.js";

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
type Obj = Record<string, any>;

const ns = "default";
const gvr = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
let server: FakeApiServer;
let cluster: OperatorOnFakeCluster;
let custom: CustomObjectsApi;

const configMap = (name: string) => server.get("v1", "ConfigMap", ns, name) as Obj | undefined;
const deployment = () => server.get("apps/v1", "Deployment", ns, "rt") as Obj | undefined;
const hash = () => deployment()?.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION] as string;
const fileOf = (cm: Obj | undefined) => {
  const parsed = parseConfigFile("config.yaml", cm?.data?.[CONFIG_FILE_KEY] ?? "");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  return parsed.value;
};
const mergePatchSpec = (spec: Obj) =>
  custom.patchNamespacedCustomObject(
    { ...gvr, name: "rt", body: { spec } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );

before(async () => {
  cluster = await operatorOnFakeCluster(async (kc) => {
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "hooks" }, stringData: { "connect-token": "Bearer s3cret" } },
    });
  });
  server = cluster.server;
  custom = cluster.kc.makeApiClient(CustomObjectsApi);
});
after(() => cluster.stop());

describe("spec.namespaces and spec.proxy against the fake API server", () => {
  it("created, updated and deleted with the spec; secret headers mounted, never in the file", async () => {
    await custom.createNamespacedCustomObject({
      ...gvr,
      body: gatewayCr("rt", {
        image: "rtgw:1",
        redis: { url: "redis://redis:6379" },
        namespaces: { chat: { historySize: 0, publish: "server" } },
        undeclaredNamespaces: "default",
        proxy: {
          connect: {
            url: "http://backend.app:8080/rtgw/connect",
            headers: { "X-Gateway": "rtgw" },
            secretHeaders: { Authorization: { name: "hooks", key: "connect-token" } },
          },
        },
      }),
    });
    const cm = await eventually("the config-file ConfigMap", () => configMap("rt-config-file"));
    assert.equal(cm.metadata.ownerReferences[0].name, "rt");
    assert.ok(!JSON.stringify(cm).includes("s3cret"), "the Secret's value is not in the ConfigMap");
    const file = fileOf(cm);
    assert.deepEqual(file.namespaces.chat, {
      historySize: 0,
      publish: "server",
      proxySubscribe: false,
      proxyPublish: false,
    });
    assert.equal(file.undeclared, "default");
    assert.deepEqual(file.proxy.connect?.headerFiles, {
      Authorization: "/etc/rtgw/hooks/connect/Authorization",
    });
    assert.equal(configMap("rt-config")?.data.RTGW_CONFIG, CONFIG_FILE_PATH);
    const dep = await eventually("the Deployment", deployment);
    assert.deepEqual(
      dep.spec.template.spec.volumes.map((v: Obj) => v.name),
      ["tmp", "config-file", "hook-headers"],
    );
    assert.deepEqual(
      dep.spec.template.spec.volumes.find((v: Obj) => v.name === "hook-headers").projected.sources,
      [{ secret: { name: "hooks", items: [{ key: "connect-token", path: "connect/Authorization" }] } }],
    );
    const first = hash();

    await mergePatchSpec({ namespaces: { chat: { historySize: 50 } } });
    await eventually(
      "the file updated",
      () => fileOf(configMap("rt-config-file")).namespaces.chat?.historySize === 50,
    );
    await eventually("the pods roll (config hash moved)", () => hash() !== first);

    await mergePatchSpec({ namespaces: null, undeclaredNamespaces: null, proxy: null });
    await eventually("the config-file ConfigMap deleted", () => configMap("rt-config-file") === undefined);
    await eventually("RTGW_CONFIG gone", () => configMap("rt-config")?.data.RTGW_CONFIG === undefined);
    await eventually("no volume for it", () =>
      deployment()?.spec.template.spec.volumes.every((v: Obj) => v.name === "tmp"),
    );
    await eventually("a Deleted Event", () =>
      (server.list("v1", "Event", ns) as Obj[]).some(
        (e) =>
          e.involvedObject?.name === "rt" &&
          e.reason === "Deleted" &&
          /ConfigMap rt-config-file/.test(e.message),
      ),
    );
  });
});
