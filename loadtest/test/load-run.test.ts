// `rtgw load` end to end against real gateway processes: small, but through the real workers, publisher,
// offsets and reports. Zero loss and zero duplicates are the assertions that matter.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { type GatewayProcess, startGateway } from "../../test-support/gateway.js";
import { type RedisServer, startRedis } from "../../test-support/redis.js";
import type { LoadReport } from "../src/load/report.js";
import { runLoad } from "../src/load/run-load.js";

const API_KEY = "load-test-api-key";
const ADMIN_KEY = "load-test-admin-key-0123";
const dir = mkdtempSync(path.join(tmpdir(), "rtgw-load-"));
const gateways: GatewayProcess[] = [];
let redis: RedisServer | undefined;
after(async () => {
  for (const gw of gateways) await gw.stop(2_000);
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("rtgw load", { timeout: 80_000 }, () => {
  it("holds connections on a memory-broker gateway with zero loss and writes JSON and HTML reports", async () => {
    const gw = await startGateway({ env: { RTGW_API_KEY: API_KEY } });
    gateways.push(gw);
    const json = path.join(dir, "load.json");
    const html = path.join(dir, "load.html");
    const report = await runLoad({
      targets: [gw.wsUrl],
      connections: 300,
      rampSeconds: 1,
      holdSeconds: 3,
      channels: 4,
      publishRate: 40,
      apiKey: API_KEY,
      workers: 2,
      json,
      html,
      quiet: true,
    });
    assert.equal(report.connections.opened, 300);
    assert.equal(report.connections.connectErrors, 0);
    assert.equal(report.publish.failed, 0);
    assert.ok(report.publish.acked >= 80, `acked ${report.publish.acked}`);
    assert.deepEqual(report.loss, { lost: 0, duplicated: 0 });
    // Every subscriber of a channel got every message published on it after it subscribed.
    assert.ok(
      report.deliveries.total >= (report.publish.acked - 4) * 75,
      `deliveries ${report.deliveries.total}`,
    );
    assert.equal(report.latencyMs.count, report.deliveries.total);
    assert.ok((report.latencyMs.p99 ?? 0) > 0);

    const written = JSON.parse(readFileSync(json, "utf8")) as LoadReport;
    assert.equal(written.connections.opened, 300);
    assert.ok(written.timeline.length >= 3);
    assert.ok(written.latencyBuckets.reduce((sum, b) => sum + b.count, 0) > 0);
    const page = readFileSync(html, "utf8");
    assert.match(page, /^<!doctype html>/);
    // Latency histogram, connections held, deliveries/s, latency percentiles over time.
    assert.equal(page.match(/<svg /g)?.length, 4);
    assert.doesNotMatch(page, /(src|href)=/, "the page must not load external assets");
  });

  it("mints JWTs and publishes over publisher connections when no API key is given", async () => {
    const secret = "load-test-jwt-secret-0123456789abcdef";
    const gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: secret } });
    gateways.push(gw);
    const report = await runLoad({
      targets: [gw.wsUrl],
      connections: 100,
      rampSeconds: 0,
      holdSeconds: 2,
      channels: 2,
      publishRate: 60,
      jwtSecret: secret,
      workers: 1,
      quiet: true,
    });
    assert.equal(report.connections.opened, 100);
    assert.equal(report.publish.failed, 0);
    assert.ok(report.publish.acked >= 60);
    assert.deepEqual(report.loss, { lost: 0, duplicated: 0 });
    assert.ok(report.deliveries.total >= (report.publish.acked - 2) * 50);
  });

  let drainReport: LoadReport | undefined;
  it("follows a drain: reconnects to the other gateway, resumes with since, loses nothing", async () => {
    redis = await startRedis();
    const env = {
      RTGW_API_KEY: API_KEY,
      RTGW_ADMIN_KEY: ADMIN_KEY,
      RTGW_BROKER: "redis",
      RTGW_REDIS_URL: redis.url,
      RTGW_DRAIN_SECONDS: "2",
    };
    const [a, b] = [await startGateway({ env }), await startGateway({ env })] as [
      GatewayProcess,
      GatewayProcess,
    ];
    gateways.push(a, b);
    const drainAt = setTimeout(() => {
      void fetch(`${a.adminUrl}/admin/drain`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
    }, 2_500);
    try {
      drainReport = await runLoad({
        targets: [a.wsUrl, b.wsUrl],
        connections: 200,
        rampSeconds: 0.5,
        holdSeconds: 6,
        channels: 4,
        publishRate: 40,
        apiKey: API_KEY,
        workers: 1,
        quiet: true,
      });
    } finally {
      clearTimeout(drainAt);
    }
    const report = drainReport;
    // Half the connections were on `a`; each got a reconnect frame and 1012, and came back on `b`.
    assert.ok(report.reconnects.count >= 100, `reconnects ${report.reconnects.count}`);
    assert.ok(
      (report.connections.closeCodes["1012"] ?? 0) >= 100,
      JSON.stringify(report.connections.closeCodes),
    );
    assert.ok((report.reconnects.spreadSeconds ?? 0) > 0.2, `spread ${report.reconnects.spreadSeconds}`);
    assert.equal(report.connections.heldAtEnd, 200);
    assert.equal(report.loss.lost, 0, report.connections.errorSamples.join("\n"));
  });

  // Once seen about one run in four (a message both in history and live after a resume): fixed in the hub.
  it("delivers no duplicate across the drain", () => {
    assert.ok(drainReport, "the drain run did not complete");
    assert.equal(drainReport.loss.duplicated, 0, drainReport.connections.errorSamples.join("\n"));
  });
});
