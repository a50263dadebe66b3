// The k6 suite cannot run here (no k6 binary): typecheck it against @types/k6, check the frames it sends
// against the gateway's protocol module, and check the TestRun's split stays under per-pod limits.
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
});
