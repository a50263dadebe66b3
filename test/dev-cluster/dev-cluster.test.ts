// `rtgw dev-cluster` as a user runs it: a real process; the example applied with the real kubectl through the
// printed kubeconfig; its pods Ready; a WebSocket subscribe/publish round trip through the printed Service URL (two
// connections, balanced by the proxy); then SIGTERM, and every process it started is gone.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { promisify } from "node:util";
import { WebSocket } from "ws";
import { until } from "../../test-support/wait.js";

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

    // --validate=false until the API server serves /openapi (another change): the apply itself is server-side.
    step("kubeconfig printed");
    const applied = await kubectl("apply", "--server-side", "--validate=false", "-f", example);
    assert.match(applied.stdout, /realtimegateway.rtgw.dev\/demo serverside-applied/);
    const readyPods = async () => {
      const { stdout } = await kubectl("get", "pods", "-o", "json");
      const pods = JSON.parse(stdout) as {
        items: { status?: { conditions?: { type: string; status: string }[] } }[];
      };
      return pods.items.filter((p) =>
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      ).length;
    };
    await until("2 Ready pods", async () => (await readyPods()) === 2, 90_000);
    const readyMs = Date.now() - t0;
    step("pods Ready");
    // The operator reports them in the RealtimeGateway's status (from the Deployment's, a moment later).
    const readyReplicas = async () =>
      (await kubectl("get", "rtgw", "demo", "-o", "jsonpath={.status.readyReplicas}")).stdout;
    await until("status.readyReplicas 2", async () => (await readyReplicas()) === "2", 20_000);
    step("status.readyReplicas 2");

    await until("the Service line", () => line("service default/demo ") !== undefined, 10_000);
    const serviceUrl = line("service default/demo ")!.split(" ")[2]!;
    assert.match(serviceUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    step("Service URL printed");
    const page = await fetch(`${serviceUrl}/`, { signal: AbortSignal.timeout(10_000) });
    assert.match(await page.text(), /<title>realtime-gateway<\/title>/);
    step("page served");
    assert.deepEqual(await roundTrip(serviceUrl), { text: "hello" });
    step("round trip");
    console.log(`dev-cluster: kubeconfig after ${startMs} ms, 2 pods Ready ${readyMs} ms after start`);

    const started = descendants(child.pid!);
    // redis-server, the operator and two gateways at least.
    assert.ok(started.length >= 4, `only ${started.length} child processes: ${started.join(" ")}`);
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
