// Error code `unavailable` and readiness when the broker is down (Redis broker, Redis killed).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
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
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200, "alive: the process can still serve");
      c.ws.terminate();
    } finally {
      await gw.stop();
      await redis.stop();
    }
  });
});

after(stopAllGateways);
