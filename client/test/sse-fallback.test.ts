// The SDK's SSE fallback against real gateway processes (memory and Redis), behind a proxy that refuses every
// WebSocket upgrade but passes plain HTTP (GET /sse streams included): the client falls back after N failed
// WebSocket attempts, says so in its state events, receives in order across a cut stream (resumed with no gap and
// no duplicate), adds a channel mid-stream, refuses publish, and hears a drain's reconnect.
import assert from "node:assert/strict";
import http from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { WebSocket } from "ws";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { type RedisServer, startRedis } from "../../test-support/redis.js";
import { type Client, connect, RtgwError } from "../src/index.js";
import { SseSocket } from "../src/sse.js";
import { httpPublish, stateLog, until } from "./helpers.js";

const API_KEY = "sse-fallback-key-0123456789";
const ADMIN_KEY = "sse-fallback-admin-key-0123";

interface NoWebSocketProxy {
  wsUrl: string;
  upgradesRefused: number;
  /** Cut every proxied response in flight (an SSE stream dropped by the network). */
  cut(): void;
  close(): Promise<void>;
}

/** A proxy that answers every WebSocket upgrade 403 and forwards everything else to `port`, streaming. */
async function noWebSocketProxy(port: number): Promise<NoWebSocketProxy> {
  const open = new Set<Socket>();
  const proxy: NoWebSocketProxy = {
    wsUrl: "",
    upgradesRefused: 0,
    cut: () => {
      for (const s of open) s.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        proxy.cut();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    open.add(req.socket);
    req.socket.once("close", () => open.delete(req.socket));
    const upstream = http.request(
      { host: "127.0.0.1", port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on("upgrade", (_req, socket: Socket) => {
    proxy.upgradesRefused += 1;
    socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  proxy.wsUrl = `ws://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/ws`;
  return proxy;
}

const FAST = { baseMs: 50, maxMs: 200 };

for (const broker of ["memory", "redis"] as const) {
  describe(`client SSE fallback (${broker})`, { timeout: 120_000 }, () => {
    let redis: RedisServer | undefined;
    let gw: GatewayProcess;
    let proxy: NoWebSocketProxy;
    const clients: Client[] = [];
    before(async () => {
      if (broker === "redis") redis = await startRedis();
      gw = await startGateway({
        env: {
          RTGW_API_KEY: API_KEY,
          RTGW_HISTORY_SIZE: "1000",
          ...(redis ? { RTGW_BROKER: "redis", RTGW_REDIS_URL: redis.url } : {}),
        },
      });
      proxy = await noWebSocketProxy(gw.port);
    });
    after(async () => {
      for (const c of clients) c.close();
      await proxy?.close();
      await stopAllGateways();
      await redis?.stop();
    });

    it("falls back after 2 refused upgrades, names the transport, resumes a cut stream with no gap or duplicate", async () => {
      const client = connect(proxy.wsUrl, {
        WebSocket,
        SSE: SseSocket,
        transports: ["websocket", "sse"],
        sseAfterFailures: 2,
        backoff: FAST,
        pingIntervalMs: 0,
      });
      clients.push(client);
      const states = stateLog(client);
      const got: Array<[string, number, unknown]> = [];
      const one = client.subscribe("fb:1", (data, meta) => got.push(["fb:1", meta.offset, data]));
      await one.ready;
      assert.equal(client.transport, "sse");
      assert.equal(proxy.upgradesRefused, 2);
      const seen = states.map((s) => `${s.state}/${s.transport}`);
      assert.deepEqual(seen.slice(0, 3), [
        "disconnected/websocket",
        "reconnecting/websocket",
        "disconnected/websocket",
      ]);
      assert.ok(seen.includes("connected/sse"), seen.join(" "));
      assert.ok(!seen.includes("connected/websocket"), seen.join(" "));

      for (let i = 1; i <= 5; i++) await httpPublish(gw.url, API_KEY, "fb:1", { i });
      await until("5 messages", () => got.length === 5);

      // Publishing needs the client→server direction.
      await assert.rejects(
        client.publish("fb:1", 1),
        (e: unknown) => e instanceof RtgwError && e.code === "transport",
      );

      // The network drops the stream; messages published meanwhile come after the resume, each once.
      const connectedBefore = states.filter((s) => s.state === "connected").length;
      proxy.cut();
      for (let i = 6; i <= 10; i++) await httpPublish(gw.url, API_KEY, "fb:1", { i });
      await until(
        "reconnected over SSE",
        () => states.filter((s) => s.state === "connected").length > connectedBefore,
      );
      assert.equal(states[states.length - 1]?.transport, "sse");
      await until("10 messages", () => got.length >= 10);

      // A second channel mid-stream reopens it with both, resumed: nothing of fb:1 twice.
      const two = client.subscribe("fb:2", (data, meta) => got.push(["fb:2", meta.offset, data]));
      await two.ready;
      await httpPublish(gw.url, API_KEY, "fb:1", { i: 11 });
      await httpPublish(gw.url, API_KEY, "fb:2", { j: 1 });
      await until("both", () => got.length >= 12);
      await new Promise((r) => setTimeout(r, 200));
      const first = got.filter(([c]) => c === "fb:1");
      assert.deepEqual(
        first.map(([, , d]) => (d as { i: number }).i),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      );
      const offsets = first.map(([, o]) => o);
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
      );
      assert.deepEqual(
        got.filter(([c]) => c === "fb:2").map(([, , d]) => d),
        [{ j: 1 }],
      );
      assert.equal(proxy.upgradesRefused, 2, "sticky: no more WebSocket attempts once on SSE");
    });
  });
}

describe("client SSE fallback: drain and SSE-only", { timeout: 60_000 }, () => {
  after(stopAllGateways);

  it('transports ["sse"] needs no WebSocket, and hears a drain: reconnect notice, then 1012', async () => {
    const gw = await startGateway({ env: { RTGW_ADMIN_KEY: ADMIN_KEY, RTGW_DRAIN_SECONDS: "1" } });
    const client = connect(gw.wsUrl, { SSE: SseSocket, transports: ["sse"], pingIntervalMs: 0 });
    try {
      const states = stateLog(client);
      const notices: number[] = [];
      client.on("reconnect", (n) => notices.push(n.afterMs));
      await client.subscribe("d:1", () => {}).ready;
      assert.equal(states[0]?.transport, "sse");
      const res = await fetch(`${gw.adminUrl}/admin/drain`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      assert.equal(res.status, 200);
      await until("1012", () => states.some((s) => s.state === "disconnected" && s.closeCode === 1012));
      assert.equal(notices.length, 1);
      const reconnecting = states.find((s) => s.state === "reconnecting");
      assert.ok(
        reconnecting && (reconnecting.retryInMs ?? -1) <= (notices[0] ?? 0),
        "waits the drain's afterMs",
      );
    } finally {
      client.close();
    }
  });

  it("over SSE a forbidden channel fails its own subscribe only; the token goes in a header", async () => {
    const secret = "f".repeat(40);
    const gw = await startGateway({
      env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: secret, RTGW_API_KEY: API_KEY },
    });
    const token = await new SignJWT({
      exp: Math.floor(Date.now() / 1000) + 600,
      channels: { subscribe: ["ok:*"] },
    })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(secret));
    const client = connect(gw.wsUrl, { token, SSE: SseSocket, transports: ["sse"], pingIntervalMs: 0 });
    try {
      const got: unknown[] = [];
      const allowed = client.subscribe("ok:1", (data) => got.push(data));
      const refused = client.subscribe("nope:1", () => {});
      await assert.rejects(refused.ready, (e: unknown) => e instanceof RtgwError && e.code === "forbidden");
      await allowed.ready;
      await httpPublish(gw.url, API_KEY, "ok:1", "hello");
      await until("message", () => got.length === 1);
      assert.deepEqual(got, ["hello"]);
    } finally {
      client.close();
    }
  });

  it('refuses transports with "sse" but no SSE implementation', () => {
    assert.throws(
      () => connect("ws://127.0.0.1:1/ws", { WebSocket, transports: ["websocket", "sse"] }),
      /need SSE/,
    );
  });
});
