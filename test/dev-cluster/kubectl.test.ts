// An unmodified kubectl v1.35 against the fake API server (with the RealtimeGateway CRD installed): each command
// a user runs in the README's walkthrough, asserted on kubectl's own output.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { realtimeGatewayCrd } from "../../operator/src/api/crd.js";
import { until } from "../../test-support/wait.js";
import { ensureHelm, ROOT } from "../chart/support/helm.js";

const KUBECTL = join(ROOT, ".cache/tools/bin/kubectl");
const NS = "default";
let server: FakeApiServer;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl's environment: its own kubeconfig and cache (nothing from the user's ~/.kube). */
function kubectlEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: dir,
    KUBECONFIG: join(dir, "config"),
    KUBECACHEDIR: join(dir, "cache"),
  };
}

/** Runs kubectl to the end. */
function kubectl(args: string[], stdin?: string, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      KUBECTL,
      args,
      {
        timeout: timeoutMs,
        env: kubectlEnv(),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        if (err && typeof err.code !== "number") reject(err);
        else resolve({ code, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** The cells of the row whose first cell is `name` (kubectl's columns are separated by 2+ spaces). */
function row(table: string, name: string): string[] | undefined {
  return table
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/))
    .find((cells) => cells[0] === name);
}

function gateway(name: string, extraSpec = ""): string {
  return `apiVersion: rtgw.dev/v1alpha1
kind: RealtimeGateway
metadata:
  name: ${name}
spec:
  image: rtgw-gateway:dev
  replicas: 2
  redis:
    url: redis://127.0.0.1:6379
  autoscaling:
    enabled: false
${extraSpec}`;
}

const BUILT_IN = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: chat
  labels: {app: chat}
spec:
  replicas: 2
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - {name: gateway, image: "rtgw-gateway:dev"}
---
apiVersion: v1
kind: Service
metadata:
  name: chat
spec:
  selector: {app: chat}
  ports:
    - {name: http, port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Pod
metadata:
  name: chat-1
  labels: {app: chat}
spec:
  nodeName: box
  terminationGracePeriodSeconds: 30
  containers:
    - {name: gateway, image: "rtgw-gateway:dev"}
`;

before(async () => {
  await ensureHelm();
  dir = mkdtempSync(join(tmpdir(), "rtgw-kubectl-"));
  server = await FakeApiServer.start({ gcDelayMs: 5 });
  server.registerCrd(realtimeGatewayCrd());
  writeFileSync(
    join(dir, "config"),
    `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "${server.url}"}}]
users: [{name: tester, user: {token: fake-token}}]
contexts: [{name: fake, context: {cluster: fake, user: tester, namespace: ${NS}}}]
current-context: fake
`,
  );
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function uidOf(gateway: string): string {
  const gw = server.get("rtgw.dev/v1alpha1", "RealtimeGateway", NS, gateway);
  assert.ok(gw, `RealtimeGateway ${gateway} exists`);
  return (gw.metadata as { uid: string }).uid;
}

async function patchStatus(name: string, status: object): Promise<void> {
  const res = await fetch(
    `${server.url}/apis/rtgw.dev/v1alpha1/namespaces/${NS}/realtimegateways/${name}/status`,
    {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ status }),
    },
  );
  assert.equal(res.status, 200, await res.text());
}

describe("a stock kubectl against the fake API server", () => {
  test("apply --server-side with validation on: the server validates (Strict), kubectl needs no client schema", async () => {
    const out = await ok(["apply", "--server-side", "-f", "-"], gateway("chat"));
    assert.match(out, /^realtimegateway\.rtgw\.dev\/chat serverside-applied$/m);
    assert.equal(
      server.get("rtgw.dev/v1alpha1", "RealtimeGateway", NS, "chat")?.metadata !== undefined,
      true,
    );
    const unknown = await kubectl(["apply", "--server-side", "-f", "-"], gateway("typo", "  replicaz: 3\n"));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown field "spec\.replicaz"/);
    const invalid = await kubectl(
      ["apply", "--server-side", "-f", "-"],
      gateway("bad", "  drain: {seconds: -1}\n"),
    );
    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stderr, /is invalid/);
    const builtIn = await ok(["apply", "--server-side", "-f", "-"], BUILT_IN);
    assert.match(builtIn, /deployment\.apps\/chat serverside-applied/);
    assert.match(builtIn, /service\/chat serverside-applied/);
    assert.match(builtIn, /pod\/chat-1 serverside-applied/);
  });

  test("client-side apply -f creates, then configures (merge patch for the CRD, strategic for a Deployment)", async () => {
    const manifests = (replicas: number) =>
      `${gateway("plain").replace("replicas: 2", `replicas: ${replicas}`)}---\n${BUILT_IN.split("---")[0]!
        .replaceAll("name: chat", "name: plain")
        .replace("replicas: 2", `replicas: ${replicas}`)}`;
    const first = await kubectl(["apply", "-f", "-"], manifests(2));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /realtimegateway\.rtgw\.dev\/plain created\ndeployment\.apps\/plain created/);
    const second = await kubectl(["apply", "-f", "-"], manifests(4));
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      /realtimegateway\.rtgw\.dev\/plain configured\ndeployment\.apps\/plain configured/,
    );
    assert.equal(second.stderr, "", "no warnings");
    const patches = server
      .writes("/plain")
      .filter((r) => r.method === "PATCH")
      .map((r) => r.contentType);
    assert.deepEqual(patches, ["application/merge-patch+json", "application/strategic-merge-patch+json"]);
    for (const [apiVersion, kind] of [
      ["rtgw.dev/v1alpha1", "RealtimeGateway"],
      ["apps/v1", "Deployment"],
    ] as const) {
      assert.equal(
        (server.get(apiVersion, kind, NS, "plain") as { spec: { replicas: number } }).spec.replicas,
        4,
      );
    }
    await ok(["delete", "rtgw/plain", "deploy/plain"]);
  });

  test("get rtgw shows the CRD's printer columns, Connections among them", async () => {
    await patchStatus("chat", { readyReplicas: 2, connections: 1234 });
    const out = await ok(["get", "rtgw"]);
    const header = out
      .split("\n")[0]!
      .trim()
      .split(/\s{2,}/);
    assert.deepEqual(header, ["NAME", "REPLICAS", "READY", "CONNECTIONS", "AGE"]);
    const cells = row(out, "chat");
    assert.deepEqual(cells?.slice(0, 4), ["chat", "2", "2", "1234"]);
    assert.match(cells?.[4] ?? "", /^\d+s$/);
  });

  test("explain rtgw.spec prints the CRD schema's fields and descriptions", async () => {
    const out = await ok(["explain", "rtgw.spec"]);
    assert.match(out, /KIND:\s+RealtimeGateway/);
    assert.match(out, /FIELD: spec <Object>/);
    assert.match(out, /image\t<string> -required-\n\s+gateway container image/);
    assert.match(out, /replicas\t<integer>\n\s+the scale subresource's specReplicasPath/);
  });

  test("scale writes spec.replicas through the scale subresource", async () => {
    assert.match(await ok(["scale", "rtgw/chat", "--replicas=5"]), /realtimegateway\.rtgw\.dev\/chat scaled/);
    const gw = server.get("rtgw.dev/v1alpha1", "RealtimeGateway", NS, "chat") as {
      spec: { replicas: number };
    };
    assert.equal(gw.spec.replicas, 5);
    assert.equal(row(await ok(["get", "rtgw"]), "chat")?.[1], "5");
  });

  test("describe lists the object and its Events (found by involvedObject)", async () => {
    const uid = uidOf("chat");
    await ok(
      ["create", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: "chat.scaled" },
        involvedObject: {
          apiVersion: "rtgw.dev/v1alpha1",
          kind: "RealtimeGateway",
          name: "chat",
          namespace: NS,
          uid,
        },
        type: "Normal",
        reason: "ScaledUp",
        message: "replicas 2 -> 5",
        source: { component: "rtgw-autoscaler" },
        count: 1,
        firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      }),
    );
    const out = await ok(["describe", "rtgw", "chat"]);
    assert.match(out, /^Name:\s+chat$/m);
    assert.match(out, /Replicas:\s+5/);
    assert.match(out, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    assert.match(out, /Normal\s+ScaledUp\s+\S+\s+rtgw-autoscaler\s+replicas 2 -> 5/);
  });

  test("get deploy,po,svc,ev: short names resolve, each kind with its usual columns", async () => {
    const out = await ok(["get", "deploy,po,svc,ev"]);
    const blocks = out.trim().split(/\n\s*\n/);
    const headers = blocks.map((b) =>
      b
        .split("\n")[0]!
        .trim()
        .split(/\s{2,}/),
    );
    assert.deepEqual(headers, [
      ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
      ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
      ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
      ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
    ]);
    assert.deepEqual(row(blocks[0]!, "deployment.apps/chat")?.slice(0, 4), [
      "deployment.apps/chat",
      "0/2",
      "0",
      "0",
    ]);
    assert.deepEqual(row(blocks[1]!, "pod/chat-1")?.slice(0, 4), ["pod/chat-1", "0/1", "Pending", "0"]);
    const svc = row(blocks[2]!, "service/chat");
    assert.equal(svc?.[1], "ClusterIP");
    assert.match(svc?.[2] ?? "", /^10\.96\.\d+\.\d+$/, "an allocated cluster IP");
    assert.deepEqual(svc?.slice(3, 5), ["<none>", "80/TCP"]);
    assert.match(blocks[3]!, /Normal\s+ScaledUp\s+realtimegateway\/chat\s+replicas 2 -> 5/);
    // The "all" category: what `kubectl get all` lists.
    const all = await ok(["get", "all"]);
    for (const name of ["pod/chat-1", "service/chat", "deployment.apps/chat"])
      assert.match(all, new RegExp(name));
  });

  test("get -w streams Table rows: one header, then a row per change", async () => {
    const child = spawn(KUBECTL, ["get", "po", "-w"], { env: kubectlEnv() });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    try {
      await until("the first row", () => out.includes("chat-1"));
      await until("kubectl's watch", () => server.requests.some((r) => r.watch && r.path.endsWith("/pods")));
      await ok(["label", "pod", "chat-1", "watched=yes"]);
      await until("the row for the change", () => out.trim().split("\n").length === 3);
      const lines = out
        .trim()
        .split("\n")
        .map((l) => l.trim().split(/\s{2,}/));
      assert.deepEqual(lines[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
      assert.deepEqual(lines[2]?.slice(0, 4), ["chat-1", "0/1", "Pending", "0"]);
    } finally {
      child.kill();
    }
  });

  test("wait --for=condition=Ready returns when the operator would set Ready", async () => {
    const waiting = kubectl(
      ["wait", "--for=condition=Ready", "rtgw/chat", "--timeout=20s"],
      undefined,
      30_000,
    );
    // The watch is open when a request for it has arrived.
    await until("kubectl's watch", () =>
      server.requests.some((r) => r.watch && r.path.endsWith("/realtimegateways")),
    );
    await patchStatus("chat", {
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "AllReplicasReady",
          message: "",
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        },
      ],
    });
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /realtimegateway\.rtgw\.dev\/chat condition met/);
  });

  test("delete: a pod terminates gracefully, a finalizer holds an object, a gateway goes with its dependents", async () => {
    assert.match(await ok(["delete", "pod", "chat-1", "--wait=false"]), /pod "chat-1" deleted/);
    assert.equal(row(await ok(["get", "po"]), "chat-1")?.[2], "Terminating");
    // The kubelet's last word: grace period 0 removes it.
    await ok(["delete", "pod", "chat-1", "--grace-period=0", "--force"]);
    assert.equal((await kubectl(["get", "pod", "chat-1"])).code, 1);

    await ok(
      ["apply", "--server-side", "-f", "-"],
      gateway("held").replace("metadata:\n", "metadata:\n  finalizers: [rtgw.dev/test]\n"),
    );
    await ok(["delete", "rtgw", "held", "--wait=false"]);
    const held = JSON.parse(await ok(["get", "rtgw", "held", "-o", "json"])) as {
      metadata: { deletionTimestamp?: string };
    };
    assert.ok(held.metadata.deletionTimestamp, "a finalizer keeps the object, marked for deletion");
    await ok(["patch", "rtgw", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    assert.match((await kubectl(["get", "rtgw", "held"])).stderr, /NotFound|not found/);

    // A Deployment owned by the gateway is garbage collected with it.
    const gwUid = uidOf("chat");
    await ok([
      "patch",
      "deploy",
      "chat",
      "--type=merge",
      "-p",
      JSON.stringify({
        metadata: {
          ownerReferences: [
            {
              apiVersion: "rtgw.dev/v1alpha1",
              kind: "RealtimeGateway",
              name: "chat",
              uid: gwUid,
              controller: true,
            },
          ],
        },
      }),
    ]);
    assert.ok(server.get("apps/v1", "Deployment", NS, "chat"));
    assert.match(await ok(["delete", "rtgw", "chat"]), /realtimegateway\.rtgw\.dev "chat" deleted/);
    await until(
      "the Deployment garbage collected",
      () => server.get("apps/v1", "Deployment", NS, "chat") === undefined,
    );
  });

  test("RBAC objects: create, get with kubectl's columns (-A), edit", async () => {
    // apply, not `kubectl create clusterrole`: that one sends protobuf, which this server does not speak.
    await ok(
      ["apply", "-f", "-"],
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: read-pods}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs:
      - get
      - list
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: op-read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-pods}
subjects: [{kind: ServiceAccount, name: op, namespace: sys}]
`,
    );
    const got = await ok(["get", "clusterroles,rolebindings", "-A", "-o", "wide"]);
    assert.match(got, /clusterrole\.rbac\.authorization\.k8s\.io\/read-pods\s+\d{4}-\d\d-\d\dT/);
    assert.match(
      got,
      new RegExp(
        `${NS}\\s+rolebinding\\.rbac\\.authorization\\.k8s\\.io/op-read\\s+ClusterRole/read-pods\\s`,
      ),
    );
    assert.match(got, /sys\/op/);
    // `kubectl edit` through an editor that turns `list` into `watch`: the stored rule changes.
    const edited = await new Promise<Run>((resolve) =>
      execFile(
        KUBECTL,
        ["edit", "clusterrole", "read-pods"],
        { env: { ...kubectlEnv(), EDITOR: "sed -i s/-\\ list$/-\\ watch/" }, timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(edited.code, 0, edited.stderr);
    assert.match(edited.stdout, /clusterrole.rbac.authorization.k8s.io\/read-pods edited/);
    const role = server.get("rbac.authorization.k8s.io/v1", "ClusterRole", "", "read-pods");
    const rules = (role?.rules ?? []) as { verbs: string[] }[];
    assert.deepEqual(rules[0]?.verbs, ["get", "watch"]);
  });
});
