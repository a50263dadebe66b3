// `rtgw operator` as a process: KUBECONFIG pointing at the fake API server, flags parsed, leader Lease taken,
// a RealtimeGateway reconciled, /healthz /readyz /metrics served, SIGTERM releases the Lease and exits 0.
// Also `rtgw crd` prints the generated CRD.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { freePort } from "../../test-support/ports.js";
import { crdYaml } from "../src/api/crd.js";
import { createGateway, eventually, fakeCluster } from "./helpers.js";

let server: FakeApiServer;
let dir: string;
let child: ChildProcess | undefined;

before(async () => {
  ({ server } = await fakeCluster());
  dir = mkdtempSync(join(tmpdir(), "rtgw-cli-"));
});
after(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("rtgw CLI", () => {
  it("rtgw crd prints the CRD", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "cli/rtgw.ts", "crd"],
      {
        timeout: 30_000,
      },
    );
    assert.equal(stdout, crdYaml());
  });

  it("rtgw operator runs against KUBECONFIG, serves health and metrics, releases its Lease on SIGTERM", async () => {
    const kubeconfig = join(dir, "config");
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        // client-node refuses plain http unless TLS verification is explicitly off.
        clusters: [{ name: "fake", cluster: { server: server.url, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "u", namespace: "default" } }],
        "current-context": "fake",
      }),
    );
    const port = await freePort();
    child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "cli/rtgw.ts",
        "operator",
        "--leader-elect",
        "--namespace",
        "default",
        "--lease-namespace",
        "default",
        "--metrics-port",
        String(port),
        "--log-level",
        "warn",
      ],
      {
        env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAME: "op-1" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)));

    await eventually("healthz", async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 20_000);
    await eventually(
      "lease taken",
      () =>
        (
          server.get("coordination.k8s.io/v1", "Lease", "default", "rtgw-operator-leader") as
            | { spec?: { holderIdentity?: string } }
            | undefined
        )?.spec?.holderIdentity === "op-1",
      10_000,
    );
    await createGateway(server.kubeConfig(), "cli", { image: "x", redis: { url: "redis://r" } });
    await eventually("Deployment", () => server.get("apps/v1", "Deployment", "default", "cli"), 10_000);
    // --namespace scopes every informer to that namespace.
    const watched = server.requests.filter((r) => r.watch).map((r) => r.path);
    assert.ok(
      watched.includes("/apis/rtgw.dev/v1alpha1/namespaces/default/realtimegateways"),
      watched.join(" "),
    );
    assert.ok(!watched.includes("/apis/rtgw.dev/v1alpha1/realtimegateways"), "no cluster-wide watch");
    await eventually("readyz", async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const m of [
      "rtgw_operator_reconciles_total",
      "rtgw_operator_reconcile_duration_seconds_bucket",
      "rtgw_operator_workqueue_depth",
      "rtgw_operator_leader 1",
    ]) {
      assert.ok(metrics.includes(m), `${m} in /metrics`);
    }
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    const lease = server.get("coordination.k8s.io/v1", "Lease", "default", "rtgw-operator-leader") as {
      spec: { holderIdentity?: string };
    };
    assert.equal(lease.spec.holderIdentity ?? "", "", "released on shutdown");
  });
});
