// The dev cluster's launch pieces: the operator's args and env come from the chart as rendered (so they follow
// the chart's values), and a missing redis-server is a clear error, not a stack trace.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { findHelm, operatorPod, renderChart } from "../../dev-cluster/chart.js";
import { startDevRedis } from "../../dev-cluster/redis.js";

const ROOT = resolve(import.meta.dirname, "../..");

describe("the operator as the chart runs it", () => {
  test("cluster scope, one replica: no --namespace, no leader election; downward-API env resolved", async () => {
    const pod = operatorPod(await renderChart(ROOT, "rtgw-system", ["operator.port=9999"]), "op-0");
    assert.deepEqual(pod.args, ["operator", "--metrics-port=9999", "--log-level=info"]);
    assert.deepEqual(pod.env, { POD_NAME: "op-0", POD_NAMESPACE: "rtgw-system" });
    assert.equal(pod.serviceAccount, "rtgw-realtime-gateway-operator");
  });

  test("namespace scope, two replicas: the chart's --namespace and leader-election flags", async () => {
    const objects = await renderChart(ROOT, "team", ["operator.scope=namespace", "operator.replicas=2"]);
    const { args } = operatorPod(objects, "op-0");
    assert.ok(args.includes("--namespace=team"), args.join(" "));
    assert.ok(args.includes("--leader-elect"), args.join(" "));
    assert.ok(args.includes("--lease-namespace=team"), args.join(" "));
  });

  test("helm is found (PATH or .cache/tools/bin)", () => {
    assert.match(findHelm(ROOT), /helm$/);
  });
});

test("startDevRedis without redis-server on PATH: a clear error", async () => {
  const path = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    await assert.rejects(startDevRedis(), /redis-server not found on PATH: install Redis/);
  } finally {
    process.env.PATH = path;
  }
});

test("startDevRedis: answers on loopback, and stop() ends it", async () => {
  const redis = await startDevRedis();
  assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
  process.kill(redis.pid, 0);
  await redis.stop();
  assert.throws(() => process.kill(redis.pid, 0));
});
