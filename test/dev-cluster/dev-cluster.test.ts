// `rtgw dev-cluster` as a user runs it, with the README walkthrough's exact commands: a real process; the real
// kubectl through the printed kubeconfig (`apply --server-side`, validation on; `wait --for=condition=Ready`;
// `get rtgw`, `get deploy,po,svc,ev`, `get clusterroles,rolebindings -A`, `describe`); a WebSocket round trip
// through the printed Service URL; clients spread over both pods, then `kubectl scale` down: a pod Terminating,
// then gone, its clients reconnected through the Service URL to the pod that is left, every message still
// delivered; `kubectl patch` turning the autoscaler on (the Connections column fills); `kubectl delete`; then SIGTERM, and every process it started is gone.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { promisify } from "node:util";
import { WebSocket } from "ws";
import { sleep, until } from "../../test-support/wait.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const KUBECTL = join(ROOT, ".cache/tools/bin/kubectl");

/** Every live descendant of `pid` (from /proc: ppid links). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== "Z";
  } catch {
    return false;
  }
};

/** `until` for checks that run kubectl: every 300 ms, not every 10. */
const poll = (what: string, check: () => Promise<boolean>, timeoutMs: number) =>
  until(
    what,
    async () => {
      if (await check()) return true;
      await sleep(300);
      return false;
    },
    timeoutMs,
  );

/** A client as the page or SDK behaves: through the Service URL, subscribed to `demo`, reconnecting on close. */
class Client {
  node = "";
  readonly nodes: string[] = [];
  readonly messages: unknown[] = [];
  private ws: WebSocket | undefined;
  private stopped = false;

  constructor(private readonly url: string) {
    this.open();
  }

  private open(): void {
    const ws = new WebSocket(`${this.url.replace(/^http/, "ws")}/ws`);
    this.ws = ws;
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", id: 1, channel: "demo" })));
    ws.on("message", (raw) => {
      const f = JSON.parse(String(raw)) as { type: string; node?: string; data?: unknown };
      if (f.type === "welcome") {
        this.node = f.node ?? "";
        this.nodes.push(this.node);
      }
      if (f.type === "message") this.messages.push(f.data);
    });
    ws.on("error", () => undefined);
    ws.on("close", () => {
      this.node = "";
      if (!this.stopped) setTimeout(() => this.open(), 200);
    });
  }

  /** Subscribed (acked) on some pod. */
  get connected(): boolean {
    return this.node !== "" && this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.stopped = true;
    this.ws?.close();
  }
}

/** Subscribe on one connection, publish on another, resolve with the message's data; fails after 15 s. */
function roundTrip(url: string): Promise<unknown> {
  return Promise.race([
    exchange(url),
    new Promise((_, reject) => setTimeout(() => reject(new Error("no round trip in 15 s")), 15_000)),
  ]);
}

function exchange(url: string): Promise<unknown> {
  const open = (u: string) =>
    new Promise<WebSocket>((resolveOpen, reject) => {
      const ws = new WebSocket(u);
      ws.once("open", () => resolveOpen(ws));
      ws.once("error", reject);
    });
  return (async () => {
    const wsUrl = `${url.replace(/^http/, "ws")}/ws`;
    const [sub, pub] = await Promise.all([open(wsUrl), open(wsUrl)]);
    try {
      const received = new Promise<unknown>((resolveMsg) => {
        sub.on("message", (raw) => {
          const frame = JSON.parse(String(raw)) as { type: string; id?: number; data?: unknown };
          if (frame.type === "ack" && frame.id === 1)
            pub.send(JSON.stringify({ type: "publish", id: 2, channel: "demo", data: { text: "hello" } }));
          if (frame.type === "message") resolveMsg(frame.data);
        });
      });
      sub.send(JSON.stringify({ type: "subscribe", id: 1, channel: "demo" }));
      return await received;
    } finally {
      sub.close();
      pub.close();
    }
  })();
}

test("rtgw dev-cluster: kubectl apply the example, pods Ready, WebSocket through the Service URL, clean stop", {
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgw-dev-cluster-"));
  const t0 = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "cli/rtgw.ts", "dev-cluster", "--dir", dir],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  // A timed-out test still stops the cluster (SIGTERM: it stops its own children; SIGKILL would orphan them).
  const stopOnExit = () => child.kill("SIGTERM");
  process.once("exit", stopOnExit);
  const stderr: string[] = [];
  child.stderr?.on("data", (d) => stderr.push(String(d)));
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => lines.push(l));
  const line = (prefix: string) => lines.find((l) => l.startsWith(prefix));
  const step = (what: string) => console.log(`${Date.now() - t0} ms: ${what}`);
  try {
    await until(
      "the export KUBECONFIG and example lines",
      () => line("export KUBECONFIG=") !== undefined && line("example ") !== undefined,
      60_000,
    );
    const startMs = Date.now() - t0;
    const kubeconfig = line("export KUBECONFIG=")!.slice("export KUBECONFIG=".length);
    const example = line("example ")!.slice("example ".length);
    assert.equal(example, join(ROOT, "dev-cluster/example.yaml"));
    const kubectl = (...args: string[]) =>
      run(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 30_000 });

    step("kubeconfig printed");
    const applied = await kubectl("apply", "--server-side", "-f", example);
    assert.match(applied.stdout, /realtimegateway.rtgw.dev\/demo serverside-applied/);
    const waited = await kubectl("wait", "--for=condition=Ready", "rtgw/demo", "--timeout=120s");
    assert.match(waited.stdout, /realtimegateway.rtgw.dev\/demo condition met/);
    step("kubectl wait: Ready");
    const readyPods = async () => {
      const { stdout } = await kubectl("get", "pods", "-o", "json");
      const pods = JSON.parse(stdout) as {
        items: { status?: { conditions?: { type: string; status: string }[] } }[];
      };
      return pods.items.filter((p) =>
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      ).length;
    };
    assert.equal(await readyPods(), 2);
    const readyMs = Date.now() - t0;
    step("pods Ready");
    // The operator reports them in the RealtimeGateway's status (from the Deployment's, a moment later).
    const readyReplicas = async () =>
      (await kubectl("get", "rtgw", "demo", "-o", "jsonpath={.status.readyReplicas}")).stdout;
    await poll("status.readyReplicas 2", async () => (await readyReplicas()) === "2", 20_000);
    step("status.readyReplicas 2");

    const rtgw = (await kubectl("get", "rtgw")).stdout;
    assert.match(rtgw, /^NAME\s+REPLICAS\s+READY\s+CONNECTIONS\s+AGE\n/);
    assert.match(rtgw, /\ndemo\s+2\s+2\s/);
    const all = (await kubectl("get", "deploy,po,svc,ev")).stdout;
    // AVAILABLE counts pods Ready for the Deployment's minReadySeconds (the drain window): 0 to 2 this soon.
    assert.match(all, /deployment\.apps\/demo\s+2\/2\s+2\s+[0-2]\s/);
    assert.equal(all.match(/pod\/demo-\S+\s+1\/1\s+Running\s/g)?.length, 2, all);
    assert.match(all, /service\/demo\s+ClusterIP\s/);
    assert.match(all, /LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    const rbac = (await kubectl("get", "clusterroles,rolebindings", "-A")).stdout;
    assert.match(rbac, /clusterrole\.rbac\.authorization\.k8s\.io\/rtgw-realtime-gateway-operator\s/);
    assert.match(rbac, /rtgw-system\s+rolebinding\.rbac\.authorization\.k8s\.io\/\S+\s+Role\/\S+/);
    const described = (await kubectl("describe", "rtgw", "demo")).stdout;
    assert.match(described, /^Name:\s+demo$/m);
    assert.match(described, /^Events:/m);
    step("get rtgw, get deploy,po,svc,ev, get clusterroles,rolebindings -A, describe");

    await until("the Service line", () => line("service default/demo ") !== undefined, 10_000);
    const serviceUrl = line("service default/demo ")!.split(" ")[2]!;
    assert.match(serviceUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    step("Service URL printed");
    const page = await fetch(`${serviceUrl}/`, { signal: AbortSignal.timeout(10_000) });
    assert.match(await page.text(), /<title>realtime-gateway<\/title>/);
    step("page served");
    assert.deepEqual(await roundTrip(serviceUrl), { text: "hello" });
    step("round trip");
    const started = descendants(child.pid!);
    // redis-server, the operator and two gateways at least.
    assert.ok(started.length >= 4, `only ${started.length} child processes: ${started.join(" ")}`);

    // Clients through the Service URL land on both pods (the proxy balances each new connection).
    const clients = Array.from({ length: 6 }, () => new Client(serviceUrl));
    try {
      await until("6 clients subscribed", () => clients.every((c) => c.connected), 20_000);
      const pods = new Set(clients.map((c) => c.node));
      assert.equal(pods.size, 2, `clients on ${[...pods].join(", ")}`);

      const scaled = await kubectl("scale", "rtgw/demo", "--replicas=1");
      assert.match(scaled.stdout, /realtimegateway.rtgw.dev\/demo scaled/);
      let terminating = "";
      await poll(
        "a pod Terminating",
        async () => {
          const po = (await kubectl("get", "po")).stdout;
          terminating = /^(demo-\S+)\s+\S+\s+Terminating\s/m.exec(po)?.[1] ?? "";
          return terminating !== "";
        },
        30_000,
      );
      step(`kubectl get po: ${terminating} Terminating`);
      await poll(
        "the Terminating pod gone",
        async () => !(await kubectl("get", "po")).stdout.includes(terminating),
        60_000,
      );
      step(`${terminating} gone`);
      const left = [...pods].find((p) => p !== terminating)!;
      const po = (await kubectl("get", "po")).stdout;
      assert.match(po, new RegExp(`^${left}\\s+1/1\\s+Running\\s`, "m"));
      // Every client that was on the drained pod came back through the Service URL, on the pod that is left.
      await until(
        "every client on the pod left",
        () => clients.every((c) => c.connected && c.node === left),
        20_000,
      );
      const moved = clients.filter((c) => c.nodes.includes(terminating));
      assert.ok(moved.length > 0 && moved.every((c) => c.nodes.at(-1) === left));
      // A publish through the Service URL (a WebSocket client, as the page does) reaches all of them.
      assert.deepEqual(await roundTrip(serviceUrl), { text: "hello" });
      await until("every client got the message", () =>
        clients.every((c) => c.messages.some((m) => JSON.stringify(m) === '{"text":"hello"}')),
      );
      step(`${moved.length} clients reconnected to ${left}; a publish reached all 6`);

      // The autoscaler turned on: it scrapes the pods (the Connections column fills: the six clients) and scales
      // back up to minReplicas (2, the default).
      const patched = await kubectl(
        "patch",
        "rtgw",
        "demo",
        "--type=merge",
        "-p",
        '{"spec":{"autoscaling":{"enabled":true}}}',
      );
      assert.match(patched.stdout, /realtimegateway.rtgw.dev\/demo patched/);
      let row = "";
      await poll(
        "get rtgw: 2 replicas, 6 connections",
        async () => {
          row = /^demo\s.*$/m.exec((await kubectl("get", "rtgw")).stdout)?.[0] ?? "";
          return /^demo\s+2\s+\d+\s+6\s/.test(row);
        },
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last row: ${row}`);
      });
      step(`autoscaler on: ${row.replace(/\s+/g, " ")}`);
    } finally {
      for (const c of clients) c.close();
    }

    const deleted = await kubectl("delete", "-f", example);
    assert.match(deleted.stdout, /realtimegateway.rtgw.dev "demo" deleted/);
    await poll(
      "no pods",
      async () => (await kubectl("get", "po")).stderr.includes("No resources found"),
      60_000,
    );
    step("kubectl delete: pods gone");
    console.log(`dev-cluster: kubeconfig after ${startMs} ms, 2 pods Ready ${readyMs} ms after start`);

    step(`SIGTERM to ${started.length} descendants`);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr.join(""));
    await until("every child process gone", () => started.every((p) => !alive(p)), 10_000);
  } finally {
    process.removeListener("exit", stopOnExit);
    if (child.exitCode === null) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});
