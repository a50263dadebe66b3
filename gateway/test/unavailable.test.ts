// Error code `unavailable` and readiness when the broker is down (Redis broker, Redis killed).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { startRedis } from "../../test-support/redis.js";
import { sleep } from "../../test-support/wait.js";
import { connect, metric } from "./client.js";

describe("broker down", { timeout: 60_000 }, () => {
  it("publish answers `unavailable` (WebSocket) and 503 (HTTP); not ready; broker_connected 0", async () => {
    const redis = await startRedis();
    const gw = await startGateway({
      env: { RTGW_BROKER: "redis", RTGW_REDIS_URL: redis.url, RTGW_API_KEY: "unavailable-key-01" },
    });
    try {
      const c = await connect(gw.wsUrl);
      assert.equal((await c.request({ type: "publish", channel: "u", data: 1 })).type, "ack");
      await redis.kill();
      const deadline = Date.now() + 20_000;
      let reply = await c.request({ type: "publish", channel: "u", data: 2 }, 15_000);
      while (reply.type !== "error" && Date.now() < deadline) {
        await sleep(200);
        reply = await c.request({ type: "publish", channel: "u", data: 2 }, 15_000);
      }
      assert.ok(reply.type === "error" && reply.code === "unavailable", JSON.stringify(reply));
      const http = await fetch(`${gw.url}/api/publish`, {
        method: "POST",
        headers: { authorization: "Bearer unavailable-key-01" },
        body: JSON.stringify({ channel: "u", data: 3 }),
      });
      assert.equal(http.status, 503);
      assert.equal(((await http.json()) as { error: string }).error, "unavailable");
      while ((await fetch(`${gw.url}/readyz`)).status !== 503) {
        assert.ok(Date.now() < deadline, "readiness should fail while the broker is down");
        await sleep(200);
      }
      assert.equal(await metric(gw.metricsUrl, "rtgw_broker_connected"), 0);
      // Not ready, so no new sockets: each would only be answered `unavailable` (and an SDK client would take a
      // refused resubscribe for an outage of this pod). 503 `unavailable` at the upgrade: it backs off and retries.
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(gw.wsUrl);
        ws.on("open", () => reject(new Error("the upgrade was accepted while the broker is down")));
        ws.on("error", () => {});
        ws.on("unexpected-response", (_req, res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
      assert.equal(refused.status, 503);
      assert.equal((JSON.parse(refused.body) as { error: string }).error, "unavailable");
      assert.equal(await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="unavailable"}'), 1);
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200, "alive: the process can still serve");
      c.ws.terminate();
    } finally {
      await gw.stop();
      await redis.stop();
    }
  });
});

after(stopAllGateways);
