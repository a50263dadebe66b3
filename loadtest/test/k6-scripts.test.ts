// The k6 suite's static checks: it typechecks against @types/k6, the frames it sends match the gateway's protocol
// module, and the k6-operator TestRun is well formed (known fields, variables the script reads, per-pod limits).
// The scripts also run, on the test-support k6 runtime: k6-run.test.ts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { decodeClientFrame, decodeServerFrames } from "../../protocol/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const K6 = path.join(ROOT, "loadtest/k6");

describe("k6 suite", { timeout: 60_000 }, () => {
  it("typechecks with @types/k6 (checkJs)", async () => {
    const tsc = path.join(ROOT, "node_modules/typescript/bin/tsc");
    const result = await promisify(execFile)(process.execPath, [tsc, "-p", path.join(K6, "tsconfig.json")], {
      cwd: ROOT,
      timeout: 50_000,
    }).then(
      () => ({ ok: true, output: "" }),
      (error: { stdout?: string; stderr?: string }) => ({
        ok: false,
        output: `${error.stdout}${error.stderr}`,
      }),
    );
    assert.ok(result.ok, result.output);
  });

  it("sends subscribe frames the gateway accepts and reads the frames it sends", async () => {
    const lib = (await import(path.join(K6, "lib.js"))) as {
      subscribeFrame(id: number, channel: string, since: number | undefined): string;
      serverFrames(data: unknown): Array<{ type: string }>;
    };
    for (const since of [undefined, 0, 17]) {
      const decoded = decodeClientFrame(lib.subscribeFrame(1, "load:3", since));
      assert.ok(decoded.ok, JSON.stringify(decoded));
      assert.deepEqual(decoded.frame, {
        type: "subscribe",
        id: 1,
        channel: "load:3",
        ...(since === undefined ? {} : { since }),
      });
    }
    const batch =
      '[{"type":"message","channel":"c","offset":1,"data":{"ts":1}},{"type":"message","channel":"c","offset":2,"data":{}}]';
    assert.deepEqual(lib.serverFrames(batch), decodeServerFrames(batch));
    const single = '{"type":"reconnect","afterMs":250,"reason":"draining"}';
    assert.deepEqual(lib.serverFrames(single), decodeServerFrames(single));
  });

  it("testrun-500k.yaml splits 500K connections under per-pod limits, with its script in the ConfigMap", () => {
    const testRun = parse(readFileSync(path.join(K6, "testrun-500k.yaml"), "utf8")) as {
      apiVersion: string;
      kind: string;
      spec: {
        parallelism: number;
        script: { configMap: { name: string; file: string } };
        runner: { env: Array<{ name: string; value?: string }> };
      };
    };
    assert.equal(testRun.apiVersion, "k6.io/v1alpha1");
    assert.equal(testRun.kind, "TestRun");
    const env = Object.fromEntries(testRun.spec.runner.env.map((e) => [e.name, e.value]));
    const total = Number(env.TOTAL_CONNECTIONS);
    assert.ok(total >= 500_000);
    const perPod = total / testRun.spec.parallelism;
    // Ephemeral ports from one pod IP to one Service address: ~28K; stay well below.
    assert.ok(perPod <= 20_000, `${perPod} connections per runner pod`);
    assert.ok(existsSync(path.join(K6, testRun.spec.script.configMap.file)));
    assert.equal(Number(env.SOCKETS_PER_VU) > 0, true);
  });

  it("testrun-500k.yaml uses only k6-operator TestRun fields and sets only variables its script reads", () => {
    const testRun = parse(readFileSync(path.join(K6, "testrun-500k.yaml"), "utf8")) as {
      metadata: { name: string };
      spec: Record<string, unknown> & {
        script: { configMap: { file: string } };
        runner: Record<string, unknown> & { env: Array<{ name: string }> };
      };
    };
    assert.match(testRun.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    // k6.io/v1alpha1 TestRunSpec and its runner (a Pod template subset), as the k6-operator's CRD defines them.
    const specFields = [
      "script",
      "parallelism",
      "separate",
      "arguments",
      "ports",
      "initializer",
      "starter",
      "runner",
    ];
    const extra = ["quiet", "paused", "scuttle", "cleanup", "testRunId", "token"];
    for (const key of Object.keys(testRun.spec))
      assert.ok([...specFields, ...extra].includes(key), `spec.${key}`);
    const runnerFields = [
      "image",
      "imagePullPolicy",
      "env",
      "envFrom",
      "resources",
      "nodeSelector",
      "tolerations",
    ];
    const podExtra = [
      "affinity",
      "topologySpreadConstraints",
      "metadata",
      "serviceAccountName",
      "securityContext",
    ];
    for (const key of Object.keys(testRun.spec.runner)) {
      assert.ok([...runnerFields, ...podExtra].includes(key), `spec.runner.${key}`);
    }
    const sources = ["lib.js", testRun.spec.script.configMap.file].map((f) =>
      readFileSync(path.join(K6, f), "utf8"),
    );
    const read = new Set(
      sources.flatMap((src) => [...src.matchAll(/env(?:Number)?\("([A-Z_]+)"/g)].map((m) => m[1])),
    );
    for (const { name } of testRun.spec.runner.env)
      assert.ok(read.has(name), `${name} is not read by the script`);
  });
});
