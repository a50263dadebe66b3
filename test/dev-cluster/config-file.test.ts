// spec.namespaces and spec.proxy with real gateway processes: in the dev cluster (the chart's operator under its
// RBAC, the pod simulator running gateway/src/main.ts), a RealtimeGateway with namespaces and a hook whose header
// comes from a Secret gets Ready pods: the gateway read the mounted RTGW_CONFIG file and the mounted header file
// (a bad file exits 2). A multi-line Secret value makes the gateway refuse to start, naming the field: the value
// really goes from the Secret through the mounted file into the gateway.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Cluster, REDIS_SECRET, startCluster } from "../../dev-cluster/cluster.js";
import { collection } from "../../dev-cluster/kube-rest.js";
import { sleep } from "../../test-support/wait.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NS = "default";
const work = mkdtempSync(join(tmpdir(), "rtgw-config-file-"));
let cluster: Cluster;

const gateway = (name: string, secret: string) => ({
  apiVersion: "rtgw.dev/v1alpha1",
  kind: "RealtimeGateway",
  metadata: { name, namespace: NS },
  spec: {
    image: "rtgw/gateway:dev",
    replicas: 1,
    autoscaling: { enabled: false },
    drain: { seconds: 1 },
    redis: { secretRef: { name: REDIS_SECRET, key: "url" } },
    namespaces: { chat: { historySize: 20, joinLeave: false }, news: { publish: "server" } },
    proxy: {
      connect: {
        url: "http://127.0.0.1:9/rtgw/connect",
        headers: { "X-Gateway": "rtgw" },
        secretHeaders: { Authorization: { name: secret, key: "token" } },
      },
    },
  },
});
const secret = (name: string, token: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: NS },
  data: { token: Buffer.from(token).toString("base64") },
});

async function pods(name: string) {
  const all = await cluster.admin.list(collection("v1", "pods", NS));
  return all.filter((p) => p.metadata.labels?.["app.kubernetes.io/instance"] === name);
}

before(async () => {
  cluster = await startCluster({ rootDir: ROOT, workDir: work, releaseNamespace: "rtgw-system" });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("RTGW_CONFIG from the operator, read by real gateway processes", () => {
  test("namespaces and a secret header: the pod is Ready with the mounted file and header", async () => {
    await cluster.admin.create(collection("v1", "secrets", NS), secret("hooks", "Bearer s3cret\n"));
    await cluster.admin.create(
      collection("rtgw.dev/v1alpha1", "realtimegateways", NS),
      gateway("files", "hooks"),
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [pod] = await pods("files");
      const status = pod?.status as { conditions?: { type: string; status: string }[] } | undefined;
      if (status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) break;
      assert.ok(Date.now() < deadline, `no Ready pod in 60 s; see ${cluster.logDir}`);
      await sleep(250);
    }
    // The files as the pod sees them: the config names the mounted header file, which holds the Secret's value.
    const [pod] = await pods("files");
    const root = join(cluster.logDir, NS, "volumes", pod?.metadata.name ?? "");
    const config = readFileSync(join(root, "etc/rtgw/config/config.yaml"), "utf8");
    assert.match(config, /chat:\n\s+historySize: 20/);
    assert.ok(config.includes(`Authorization: ${root}/etc/rtgw/hooks/connect/Authorization`), config);
    assert.equal(readFileSync(join(root, "etc/rtgw/hooks/connect/Authorization"), "utf8"), "Bearer s3cret\n");
    assert.ok(!config.includes("s3cret"));
  });

  test("a header Secret holding two lines: the gateway refuses to start, naming the field", async () => {
    await cluster.admin.create(collection("v1", "secrets", NS), secret("bad-hooks", "Bearer a\nX-Evil: 1"));
    await cluster.admin.create(
      collection("rtgw.dev/v1alpha1", "realtimegateways", NS),
      gateway("bad", "bad-hooks"),
    );
    const deadline = Date.now() + 60_000;
    const logs = join(cluster.logDir, NS);
    const said = () =>
      existsSync(logs) &&
      readdirSync(logs)
        .filter((f) => f.startsWith("bad-") && f.endsWith(".log"))
        .some((f) =>
          /proxy\.connect\.headerFiles\.Authorization: .* does not hold one header value/.test(
            readFileSync(join(logs, f), "utf8"),
          ),
        );
    while (!said()) {
      assert.ok(Date.now() < deadline, `the gateway did not refuse the header file in 60 s; see ${logs}`);
      await sleep(250);
    }
    const [pod] = await pods("bad");
    const status = pod?.status as { conditions?: { type: string; status: string }[] } | undefined;
    assert.ok(!status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
  });
});
