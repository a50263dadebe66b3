// The pod simulator's kubelet and graceful deletion against the fake API server: a deleted pod is only marked
// (deletionTimestamp + grace), its process gets SIGTERM, SIGKILL when the grace period ends if it is still there,
// turns not Ready while it drains, and only then leaves the API. The "gateway" here is a stand-in process (one
// that ignores SIGTERM, one that exits on it), so the test measures the kubelet, not the gateway.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { type PodEvent, PodSimulator } from "../../dev-cluster/pod-simulator.js";
import { until } from "../../test-support/wait.js";
import { ROOT } from "../chart/support/helm.js";

const NS = "default";
const GRACE_S = 2;
let server: FakeApiServer;
let sim: PodSimulator;
let root: string;
const events: PodEvent[] = [];

const STAND_IN = `import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
let draining = false;
createServer((_req, res) => { res.statusCode = draining ? 503 : 200; res.end(); }).listen(8080, process.env.RTGW_HOST);
process.on("SIGTERM", () => {
  appendFileSync(process.env.SIM_LOG, "TERM\\n");
  draining = true;
  if (process.env.SIM_ON_TERM === "exit") process.exit(0);
});
`;

function deployment(name: string, onTerm: "ignore" | "exit") {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: GRACE_S,
          containers: [
            {
              name: "gateway",
              image: "stand-in",
              ports: [{ name: "http", containerPort: 8080 }],
              env: [
                { name: "SIM_LOG", value: join(root, `${name}.log`) },
                { name: "SIM_ON_TERM", value: onTerm },
              ],
              readinessProbe: { httpGet: { path: "/readyz", port: "http" } },
            },
          ],
        },
      },
    },
  };
}

type Pod = {
  metadata: {
    name: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels: Record<string, string>;
  };
  status?: { conditions?: { type: string; status: string }[] };
};

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers:
      body === undefined
        ? {}
        : { "content-type": method === "PATCH" ? "application/merge-patch+json" : "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function podsOf(app: string): Pod[] {
  return (server.list("v1", "Pod", NS) as unknown as Pod[]).filter((p) => p.metadata.labels.app === app);
}

const ready = (p: Pod) => p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

before(async () => {
  root = mkdtempSync(join(tmpdir(), "rtgw-podsim-"));
  mkdirSync(join(root, "gateway/src"), { recursive: true });
  writeFileSync(join(root, "gateway/src/main.ts"), STAND_IN);
  symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
  server = await FakeApiServer.start({ gcDelayMs: 5 });
  sim = new PodSimulator({
    server: server.url,
    namespace: NS,
    rootDir: root,
    ipPrefix: "127.0.77.",
    reconcileMs: 100,
    probeMs: 100,
    onEvent: (e) => events.push(e),
  });
  sim.start();
});
after(async () => {
  await sim.stop(500);
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("pod simulator: graceful deletion", () => {
  test("a pod that ignores SIGTERM is marked, turns not Ready, is SIGKILLed at the grace period, then removed", async () => {
    assert.equal(
      (await api("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, deployment("stubborn", "ignore")))
        .status,
      201,
    );
    await until("the pod Ready", () => podsOf("stubborn").some(ready), 20_000);
    const name = podsOf("stubborn")[0]!.metadata.name;
    await api("PATCH", `/apis/apps/v1/namespaces/${NS}/deployments/stubborn`, { spec: { replicas: 0 } });
    await until(
      "the deletion mark",
      () => podsOf("stubborn")[0]?.metadata.deletionTimestamp !== undefined,
      5000,
    );
    assert.equal(podsOf("stubborn")[0]?.metadata.deletionGracePeriodSeconds, GRACE_S);
    await until(
      "SIGTERM",
      () =>
        existsSync(join(root, "stubborn.log")) &&
        readFileSync(join(root, "stubborn.log"), "utf8").includes("TERM"),
      5000,
    );
    await until(
      "not Ready while draining",
      () => podsOf("stubborn")[0]?.status !== undefined && !ready(podsOf("stubborn")[0]!),
      5000,
    );
    assert.equal(podsOf("stubborn").length, 1, "still in the API while its process runs");
    await until("the pod removed", () => podsOf("stubborn").length === 0, 10_000);
    const deleting = events.find((e) => e.kind === "deleting" && e.pod === name)!;
    const exited = events.find((e) => e.kind === "exited" && e.pod === name);
    assert.ok(exited && exited.kind === "exited");
    assert.equal(exited.signal, "SIGKILL");
    const held = exited.at - deleting.at;
    assert.ok(
      held >= GRACE_S * 1000 - 100 && held < GRACE_S * 1000 + 1500,
      `killed ${held} ms after the deletion`,
    );
  });

  test("a pod that exits on SIGTERM leaves before its grace period; the ReplicaSet replaces a pod deleted by someone else", async () => {
    await api("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, deployment("polite", "exit"));
    await until("the pod Ready", () => podsOf("polite").some(ready), 20_000);
    const name = podsOf("polite")[0]!.metadata.name;
    const started = Date.now();
    const del = await api("DELETE", `/api/v1/namespaces/${NS}/pods/${name}`);
    assert.equal(((await del.json()) as Pod).metadata.deletionGracePeriodSeconds, GRACE_S);
    await until("the pod removed", () => !podsOf("polite").some((p) => p.metadata.name === name), 5000);
    assert.ok(Date.now() - started < GRACE_S * 1000, "gone as soon as its process exited");
    const exited = events.find((e) => e.kind === "exited" && e.pod === name);
    assert.ok(exited && exited.kind === "exited");
    assert.deepEqual([exited.code, exited.signal], [0, null]);
    await until(
      "a replacement Ready",
      () => podsOf("polite").some((p) => p.metadata.name !== name && ready(p)),
      20_000,
    );
  });
});
