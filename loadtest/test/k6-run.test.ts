// The k6 suite, run: every script in loadtest/k6/ at small scale against real gateway processes, through the
// test-support k6 runtime (k6 itself cannot be installed here), with its checks and thresholds evaluated; and
// runs that must fail (an impossible threshold, a wrong API key) or be refused (features the runtime lacks).
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { type K6Run, runK6 } from "../../test-support/k6/launch.js";
import type { SummaryJson } from "../../test-support/k6/summary.js";
import { freePort } from "../../test-support/ports.js";
import { type RedisServer, startRedis } from "../../test-support/redis.js";
import { startTcpBalancer, type TcpBalancer } from "../../test-support/tcp-balancer.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const API_KEY = "k6-test-api-key";
const FIXTURES = path.join(HERE, "k6-fixtures");

/**
 * k6 would exit 0, every threshold was evaluated and passed (the scripts state their check rates as thresholds on
 * `checks`), and no iteration threw.
 */
function assertPassed(run: K6Run): SummaryJson {
  assert.equal(run.code, 0, run.output);
  const summary = run.summary;
  assert.ok(summary, run.output);
  for (const [metric, { thresholds }] of Object.entries(summary.metrics)) {
    for (const [source, result] of Object.entries(thresholds ?? {})) {
      assert.ok(
        result.ok && result.evaluated,
        `${metric} ${source}: ${JSON.stringify(result)}\n${run.output}`,
      );
    }
  }
  assert.ok(summary.metrics.checks?.thresholds, "every script states the check rate it demands");
  assert.equal(summary.runtime.iterationErrors, 0, run.output);
  return summary;
}

const count = (summary: SummaryJson, metric: string) => summary.metrics[metric]?.values.count ?? 0;

describe("k6 scripts on the test-support runtime", { timeout: 240_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({ env: { RTGW_API_KEY: API_KEY } });
  });
  after(stopAllGateways);

  it("every script in loadtest/k6 has a run here", () => {
    const scripts = readdirSync(path.join(HERE, "../k6")).filter((f) => f.endsWith(".js") && f !== "lib.js");
    assert.deepEqual(scripts.sort(), ["broadcast-latency.js", "connect-hold.js", "drain-storm.js"]);
  });

  it("connect-hold.js: ramps to 200 sockets over 10 VUs, holds them to the end, thresholds pass", async () => {
    const run = await runK6("loadtest/k6/connect-hold.js", {
      TARGET: gw.wsUrl,
      TOTAL_CONNECTIONS: "200",
      SOCKETS_PER_VU: "20",
      CHANNELS: "10",
      RAMP_SECONDS: "2",
      HOLD_SECONDS: "3",
    });
    const summary = assertPassed(run);
    assert.equal(count(summary, "rtgw_connections_opened"), 200);
    assert.equal(count(summary, "rtgw_subscribe_ms"), 200);
    assert.equal(count(summary, "rtgw_connections_dropped"), 0);
    // One iteration per VU, none cut at gracefulStop: every socket closed at the scenario's end.
    assert.equal(count(summary, "iterations"), 10);
    assert.equal(summary.runtime.interruptedIterations, 0);
    assert.deepEqual(summary.root_group.checks, [
      { name: "connection held until the end", passes: 200, fails: 0 },
    ]);
    // Sockets close together at the scenario's end (5 s): the last VU's (started at 2 s) were held ~3 s, the
    // first's ~4.6 s; holding RAMP + HOLD from each VU's own start would give every socket ~5 s.
    const sessionMs = summary.metrics.ws_session_duration?.values ?? {};
    assert.ok((sessionMs.min ?? 0) >= 2_500 && (sessionMs.min ?? 0) < 4_000, JSON.stringify(sessionMs));
    assert.ok((sessionMs.max ?? 0) < 5_500, JSON.stringify(sessionMs));
  });

  it("broadcast-latency.js: 200 subscribers on 10 channels get every published message, in order", async () => {
    const run = await runK6("loadtest/k6/broadcast-latency.js", {
      TARGET: gw.wsUrl,
      HTTP: gw.url,
      API_KEY,
      SUBSCRIBERS: "200",
      SOCKETS_PER_VU: "20",
      CHANNELS: "10",
      PUBLISH_RATE: "20",
      WARMUP_SECONDS: "2",
      SECONDS: "3",
    });
    const summary = assertPassed(run);
    const published = count(summary, "http_reqs");
    assert.ok(published >= 55 && published <= 61, `published ${published}`);
    // 20 subscribers per channel, each message on one channel: every one delivered to all of them.
    assert.equal(count(summary, "rtgw_deliveries"), published * 20);
    assert.equal(count(summary, "rtgw_delivery_latency"), published * 20);
    assert.equal(count(summary, "rtgw_offset_gaps"), 0);
    assert.deepEqual(summary.root_group.checks, [
      { name: "publish answered 200", passes: published, fails: 0 },
    ]);
  });

  it("drain-storm.js: one of two gateways drains mid-stream; clients resume elsewhere with no loss", async () => {
    let redis: RedisServer | undefined;
    let balancer: TcpBalancer | undefined;
    try {
      redis = await startRedis();
      const ADMIN_KEY = "k6-drain-admin-key-0123";
      const env = {
        RTGW_API_KEY: API_KEY,
        RTGW_ADMIN_KEY: ADMIN_KEY,
        RTGW_BROKER: "redis",
        RTGW_REDIS_URL: redis.url,
        RTGW_DRAIN_SECONDS: "6",
      };
      const pods = [await startGateway({ env }), await startGateway({ env })];
      balancer = await startTcpBalancer(
        pods.map((p) => p.port),
        { readyPath: "/readyz" },
      );
      const run = await runK6("loadtest/k6/drain-storm.js", {
        TARGET: balancer.wsUrl,
        HTTP: balancer.url,
        API_KEY,
        // One pod's internal port: /admin/* is not behind the Service.
        ADMIN_URL: pods[0]?.adminUrl ?? "",
        ADMIN_KEY,
        CONNECTIONS: "200",
        SOCKETS_PER_VU: "20",
        CHANNELS: "10",
        PUBLISH_RATE: "20",
        DRAIN_AT: "12",
        SECONDS: "30",
      });
      const summary = assertPassed(run);
      // About half the sockets were on the drained pod; each came back once.
      const reconnects = count(summary, "rtgw_reconnects");
      assert.ok(reconnects >= 60 && reconnects <= 140, `reconnects ${reconnects}`);
      assert.equal(count(summary, "rtgw_lost"), 0);
      assert.equal(count(summary, "rtgw_duplicated"), 0);
      // A publish in flight when the drained pod exits may get "socket hang up" (the script allows 1%).
      const publishes = summary.root_group.checks.find((c) => c.name === "publish answered 200");
      assert.ok(publishes && publishes.passes >= 190 && publishes.fails <= 2, JSON.stringify(publishes));
      // The drained pod exited once its sockets had left; the other one holds every client.
      assert.equal(
        await Promise.race([Promise.any(pods.map((p) => p.exited)), sleep(1_000).then(() => -1)]),
        0,
      );
    } finally {
      await balancer?.close();
      await stopAllGateways();
      await redis?.stop();
      gw = await startGateway({ env: { RTGW_API_KEY: API_KEY } });
    }
  });

  it("fails (exit 99) on a threshold no run can meet", async () => {
    const run = await runK6(path.join(FIXTURES, "impossible-threshold.js"), {
      TARGET: gw.wsUrl,
      TOTAL_CONNECTIONS: "20",
      SOCKETS_PER_VU: "10",
      RAMP_SECONDS: "1",
      HOLD_SECONDS: "1",
    });
    assert.equal(run.code, 99, run.output);
    assert.deepEqual(run.summary?.metrics.rtgw_subscribe_ms?.thresholds, {
      "p(99)<0": { ok: false, evaluated: true },
    });
    // Only that one failed: the script's other thresholds held.
    assert.equal(run.summary?.metrics.rtgw_connect_failed?.thresholds?.["rate<0.001"]?.ok, true);
    assert.match(run.output, /✗ 'p\(99\)<0'/);
  });

  it("fails (exit 99) when publishing is refused: a wrong API key fails the publish threshold and check", async () => {
    const run = await runK6("loadtest/k6/broadcast-latency.js", {
      TARGET: gw.wsUrl,
      HTTP: gw.url,
      API_KEY: "not-the-api-key",
      SUBSCRIBERS: "20",
      SOCKETS_PER_VU: "10",
      CHANNELS: "2",
      PUBLISH_RATE: "10",
      WARMUP_SECONDS: "1",
      SECONDS: "1",
    });
    assert.equal(run.code, 99, run.output);
    const metrics = run.summary?.metrics ?? {};
    assert.deepEqual(metrics.rtgw_publish_failed?.thresholds, {
      "rate<0.001": { ok: false, evaluated: true },
    });
    assert.deepEqual(metrics.rtgw_deliveries?.thresholds, { "count>0": { ok: false, evaluated: true } });
    assert.deepEqual(metrics.checks?.thresholds, { "rate>0.999": { ok: false, evaluated: true } });
    // The latency thresholds pass on no data (an empty Trend reads 0 in k6): hence the deliveries threshold.
    assert.deepEqual(metrics.rtgw_delivery_latency?.thresholds?.["p(99)<250"], { ok: true, evaluated: true });
  });

  it("keeps k6's semantics: per-VU module state, timers, WebSocket event order", async () => {
    const run = await runK6(path.join(FIXTURES, "semantics.js"), {
      TARGET: gw.wsUrl,
      REFUSED_URL: `ws://127.0.0.1:${await freePort()}/ws`,
    });
    const summary = assertPassed(run);
    // 3 VUs x 2 iterations x 5 checks, all run.
    assert.equal(summary.metrics.checks?.values.passes, 30, run.output);
  });

  it("keeps k6's executor semantics: interruption after gracefulStop, dropped arrivals, ramping loops", async () => {
    const started = Date.now();
    const run = await runK6(path.join(FIXTURES, "executors.js"), {});
    const summary = assertPassed(run);
    // maxDuration 1 s + gracefulStop 0.5 s, not the 5 s timer.
    assert.ok(Date.now() - started < 4_500, `${Date.now() - started} ms`);
    assert.equal(summary.runtime.interruptedIterations >= 1, true, run.output);
    assert.deepEqual(
      summary.root_group.checks.map((c) => c.name),
      ["a slow arrival completes"],
    );
    // 20 arrivals in 1 s on one VU busy 180 ms each: ~5 run, the rest dropped.
    const ran = summary.root_group.checks[0]?.passes ?? 0;
    assert.ok(ran >= 4 && ran <= 7, `${ran} arrivals ran`);
    assert.equal(count(summary, "dropped_iterations"), 20 - ran);
    // VU 1 from 0.5 s, VU 2 from 1 s: many short iterations, and the run still ended on time.
    assert.ok(count(summary, "fixture_ramp_iterations") > 50, run.output);
  });

  it("refuses what the runtime does not implement, loudly", async () => {
    const sleepRun = await runK6(path.join(FIXTURES, "unsupported-import.js"), {});
    assert.equal(sleepRun.code, 107, sleepRun.output);
    assert.match(
      sleepRun.output,
      /does not provide an export named 'sleep'.*not supported by the test-support k6 runtime/,
    );
    const tagged = await runK6(path.join(FIXTURES, "unsupported-call.js"), {});
    assert.equal(tagged.code, 107, tagged.output);
    assert.match(tagged.output, /check\(\) tags is not supported by the test-support k6 runtime/);
    assert.equal(tagged.summary, undefined, "an unsupported call ends the run without a result");
    const executor = await runK6(path.join(FIXTURES, "unsupported-executor.js"), {});
    assert.equal(executor.code, 104, executor.output);
    assert.match(executor.output, /executor "constant-vus" is not supported/);
    const unknown = await runK6(path.join(FIXTURES, "unknown-metric-threshold.js"), {});
    assert.equal(unknown.code, 104, unknown.output);
    assert.match(unknown.output, /no metric name "rtgw_nothing" found/);
  });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
