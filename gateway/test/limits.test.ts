// Connection limits, slow consumers, heartbeats and compression against a real gateway.
import assert from "node:assert/strict";
import { type Socket, connect as tcpConnect } from "node:net";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { sleep } from "../../test-support/wait.js";
import { connect, metric, type TestClient, upgradeStatus } from "./client.js";

/** A raw WebSocket handshake on a plain TCP socket we fully control (e.g. to never read or never pong). */
async function rawUpgrade(port: number, frames: string[] = []): Promise<Socket> {
  const socket = tcpConnect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  socket.write(
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise((r) => socket.once("data", r));
  for (const text of frames) {
    const payload = Buffer.from(text);
    assert.ok(payload.length < 126);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = payload.map((b, i) => b ^ (mask[i % 4] as number));
    socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  }
  return socket;
}

describe("limits", { timeout: 90_000 }, () => {
  it("answers 503 past RTGW_MAX_CONNECTIONS, counts it, and is not ready while full", async () => {
    const gw = await startGateway({ env: { RTGW_MAX_CONNECTIONS: "3" } });
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 3; i++) clients.push(await connect(gw.wsUrl));
      assert.equal(await upgradeStatus(gw.wsUrl), 503);
      assert.equal(await upgradeStatus(gw.wsUrl), 503);
      assert.equal(await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="full"}'), 2);
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 503);
      clients.pop()?.close();
      const deadline = Date.now() + 5000;
      while ((await fetch(`${gw.url}/readyz`)).status !== 200) {
        assert.ok(Date.now() < deadline, "ready again after a connection left");
        await sleep(20);
      }
      assert.equal(await upgradeStatus(gw.wsUrl), 101);
    } finally {
      for (const c of clients) c.ws.terminate();
      await gw.stop();
    }
  });

  it("closes and counts a consumer that stops reading; memory stays bounded", async () => {
    const gw = await startGateway({
      env: {
        RTGW_MAX_BACKPRESSURE_BYTES: "65536",
        RTGW_PUBLISH_RATE: "100000",
        RTGW_PUBLISH_BURST: "100000",
      },
    });
    const stuck = await rawUpgrade(gw.port, [
      JSON.stringify({ type: "subscribe", id: 1, channel: "firehose" }),
    ]);
    stuck.pause(); // never read again: the kernel buffers fill, then the gateway's send buffer
    const reader = await connect(gw.wsUrl);
    try {
      await reader.request({ type: "subscribe", channel: "firehose" });
      const data = "x".repeat(8000);
      for (let i = 0; i < 1500; i++) {
        reader.send({ type: "publish", id: 10 + i, channel: "firehose", data });
        if (i % 50 === 0) await sleep(2);
      }
      const deadline = Date.now() + 15_000;
      while ((await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total")) < 1) {
        assert.ok(Date.now() < deadline, "the stuck consumer was never closed");
        await sleep(50);
      }
      const stats = (await (await fetch(`${gw.url}/api/stats`)).json()) as { connections: number };
      assert.equal(stats.connections, 1, "only the healthy reader is left");
      // The reader kept up and got every message, in order.
      await reader.request({ type: "ping" }, 15_000);
      assert.equal(reader.ws.readyState, WebSocket.OPEN);
    } finally {
      stuck.destroy();
      reader.ws.terminate();
      await gw.stop();
    }
  });

  it("a dead peer (no pongs, no data) is gone within twice the idle timeout", async () => {
    const gw = await startGateway({ env: { RTGW_IDLE_TIMEOUT_SECONDS: "8" } });
    try {
      const dead = await rawUpgrade(gw.port);
      dead.on("data", () => {}); // reads (so pings arrive) but never answers them
      const start = Date.now();
      const closedAt = new Promise<number>((r) => dead.once("close", () => r(Date.now())));
      dead.on("error", () => {});
      const live = await connect(gw.wsUrl); // `ws` answers pings: it must survive
      const elapsed = (await closedAt) - start;
      assert.ok(elapsed <= 16_000, `closed after ${elapsed} ms`);
      assert.equal(live.ws.readyState, WebSocket.OPEN);
      live.ws.terminate();
    } finally {
      await gw.stop();
    }
  });

  for (const mode of ["shared", "dedicated"] as const) {
    it(`RTGW_COMPRESSION=${mode} negotiates permessage-deflate and delivers`, async () => {
      const gw = await startGateway({ env: { RTGW_COMPRESSION: mode } });
      try {
        const c = await connect(gw.wsUrl);
        assert.match(c.ws.extensions, /permessage-deflate/);
        await c.request({ type: "subscribe", channel: "z" });
        await c.request({ type: "publish", channel: "z", data: "y".repeat(5000) });
        const m = await c.next((f) => f.type === "message");
        assert.equal(m.type === "message" && m.data, "y".repeat(5000));
        c.ws.terminate();
      } finally {
        await gw.stop();
      }
    });
  }

  it("RTGW_COMPRESSION=off negotiates nothing", async () => {
    const gw = await startGateway();
    try {
      const c = await connect(gw.wsUrl);
      assert.equal(c.ws.extensions, "");
      c.ws.terminate();
    } finally {
      await gw.stop();
    }
  });
});

after(stopAllGateways);
