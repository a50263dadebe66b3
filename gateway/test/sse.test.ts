// GET /sse against real gateway processes (memory and Redis brokers): events with ids, resume by Last-Event-ID
// with no gap and no duplicate, resync when history cannot cover it, auth and bad input refused as JSON, limits
// shared with WebSockets, heartbeats, drains, slow consumers and metrics by transport.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { type RedisServer, startRedis } from "../../test-support/redis.js";
import { openSse, type SseStream } from "../../test-support/sse.js";
import { until } from "../../test-support/wait.js";
import { connect, metric } from "./client.js";

const API_KEY = "sse-test-api-key-0123456789";
const ADMIN_KEY = "sse-test-admin-key-0123";
const SECRET = "s".repeat(40);

async function publish(
  gw: GatewayProcess,
  channel: string,
  data: unknown,
): Promise<{ offset: number; epoch: string }> {
  const res = await fetch(`${gw.url}/api/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ channel, data }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { offset: number; epoch: string };
}
const offsets = (s: SseStream, channel?: string) =>
  s
    .messages()
    .filter((m) => channel === undefined || m.channel === channel)
    .map((m) => m.offset);
const lastId = (s: SseStream) => s.events[s.events.length - 1]?.id ?? "";
const named = (s: SseStream, event: string) => s.events.filter((e) => e.event === event);

for (const broker of ["memory", "redis"] as const) {
  describe(`GET /sse (${broker})`, { timeout: 120_000 }, () => {
    let redis: RedisServer | undefined;
    let gw: GatewayProcess;
    const env = () => ({
      RTGW_API_KEY: API_KEY,
      RTGW_HISTORY_SIZE: "20",
      RTGW_SSE_HEARTBEAT_SECONDS: "1",
      ...(redis ? { RTGW_BROKER: "redis", RTGW_REDIS_URL: redis.url } : {}),
    });
    before(async () => {
      if (broker === "redis") redis = await startRedis();
      gw = await startGateway({ env: env() });
    });
    after(async () => {
      await stopAllGateways();
      await redis?.stop();
    });

    it("streams each message as an event with id <epoch>:<offset> and the WebSocket frame's JSON", async () => {
      const s = await openSse(`${gw.url}/sse?channel=news`);
      try {
        assert.equal(s.status, 200);
        await s.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
        const first = await publish(gw, "news", { n: 1 });
        await publish(gw, "news", { n: 2 });
        await s.until("2 messages", () => offsets(s).length === 2);
        const messages = named(s, "message");
        assert.deepEqual(
          messages.map((m) => m.id),
          [`${first.epoch}:${first.offset}`, `${first.epoch}:${first.offset + 1}`],
        );
        assert.deepEqual(JSON.parse(messages[0]?.data ?? ""), {
          type: "message",
          channel: "news",
          offset: first.offset,
          data: { n: 1 },
        });
        assert.equal(named(s, "welcome").length, 1);
        await until("a heartbeat comment", () => /\n:\n\n/.test(s.raw()), 5000);
      } finally {
        s.close();
      }
    });

    it("Last-Event-ID resumes with no gap and no duplicate (one channel and several)", async () => {
      const one = await openSse(`${gw.url}/sse?channel=r1`);
      const two = await openSse(`${gw.url}/sse?channel=r2a&channel=r2b`);
      await one.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
      await two.until("subscribed", (e) => e.filter((x) => x.event === "subscribed").length === 2);
      for (let i = 1; i <= 5; i++) {
        await publish(gw, "r1", i);
        await publish(gw, "r2a", i);
        await publish(gw, "r2b", i * 10);
      }
      await one.until("5", () => offsets(one).length === 5);
      await two.until("10", () => offsets(two).length === 10);
      one.close();
      two.close();
      const idOne = lastId(one);
      const idTwo = lastId(two);
      assert.match(idOne, /^[^;,]+:5$/);
      assert.match(idTwo, /^r2a;[^,]+:5,r2b;[^,]+:5$/);
      // Published while both were away.
      for (let i = 6; i <= 8; i++) {
        await publish(gw, "r1", i);
        await publish(gw, "r2b", i * 10);
      }
      const again = await openSse(`${gw.url}/sse?channel=r1`, { "last-event-id": idOne });
      const againTwo = await openSse(`${gw.url}/sse?channel=r2a&channel=r2b`, { "last-event-id": idTwo });
      try {
        await again.until("replay", () => offsets(again).length === 3);
        await againTwo.until("replay", () => offsets(againTwo).length === 3);
        await publish(gw, "r1", 9);
        await publish(gw, "r2a", 6);
        await again.until("live", () => offsets(again).length === 4);
        await againTwo.until("live", () => offsets(againTwo).length === 4);
        assert.deepEqual(offsets(again), [6, 7, 8, 9]);
        assert.deepEqual(offsets(againTwo, "r2b"), [6, 7, 8]);
        assert.deepEqual(offsets(againTwo, "r2a"), [6]);
        assert.deepEqual(
          named(again, "subscribed").map((e) => JSON.parse(e.data).recovered),
          [true],
        );
        assert.equal(named(again, "resync").length, 0);
        // The same resume through ?since=&epoch= (a first connection that knows where it stands).
        const [epoch] = idOne.split(":");
        const bySince = await openSse(`${gw.url}/sse?channel=r1&since=7&epoch=${epoch}`);
        await bySince.until("replay", () => offsets(bySince).length === 2);
        assert.deepEqual(offsets(bySince), [8, 9]);
        bySince.close();
      } finally {
        again.close();
        againTwo.close();
      }
    });

    it("a resync event when history is too short or the epoch is not the channel's", async () => {
      const s = await openSse(`${gw.url}/sse?channel=short`);
      await s.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
      const p = await publish(gw, "short", 1);
      await s.until("1", () => offsets(s).length === 1);
      s.close();
      for (let i = 2; i <= 30; i++) await publish(gw, "short", i); // history keeps 20
      const late = await openSse(`${gw.url}/sse?channel=short`, { "last-event-id": lastId(s) });
      const foreign = await openSse(`${gw.url}/sse?channel=short`, { "last-event-id": "another-epoch:1" });
      try {
        for (const r of [late, foreign]) {
          await r.until("resync", (e) => e.some((x) => x.event === "resync"));
          const resync = JSON.parse(named(r, "resync")[0]?.data ?? "");
          assert.deepEqual(resync, {
            type: "resync",
            channel: "short",
            epoch: p.epoch,
            offset: 30,
            recovered: false,
          });
          assert.equal(named(r, "resync")[0]?.id, `${p.epoch}:30`);
          assert.equal(JSON.parse(named(r, "subscribed")[0]?.data ?? "").recovered, false);
        }
        await publish(gw, "short", 31);
        await late.until("live", () => offsets(late).length === 1);
        await foreign.until("live", () => offsets(foreign).length === 1);
        assert.deepEqual(offsets(late), [31], "nothing of the partial history, no hole after the resync");
        assert.deepEqual(offsets(foreign), [31]);
      } finally {
        late.close();
        foreign.close();
      }
    });

    it("counts SSE connections with the WebSockets, by transport", async () => {
      const sse = (await metric(gw.metricsUrl, 'rtgw_connections_by_transport{transport="sse"}')) || 0;
      const total = await metric(gw.metricsUrl, "rtgw_connections");
      const s = await openSse(`${gw.url}/sse?channel=count`);
      const ws = await connect(gw.wsUrl);
      try {
        await s.until("welcome", (e) => e.length > 0);
        assert.equal(await metric(gw.metricsUrl, 'rtgw_connections_by_transport{transport="sse"}'), sse + 1);
        assert.equal(await metric(gw.metricsUrl, "rtgw_connections"), total + 2);
        assert.equal((await (await fetch(`${gw.url}/api/stats`)).json()).connections, total + 2);
      } finally {
        s.close();
        ws.ws.close();
      }
      await until(
        "stream forgotten",
        async () => (await metric(gw.metricsUrl, 'rtgw_connections_by_transport{transport="sse"}')) === sse,
      );
    });

    if (broker === "redis")
      it("a live epoch change (Redis lost the channel: FLUSHALL) reaches an open stream as a resync", async () => {
        const s = await openSse(`${gw.url}/sse?channel=flush`);
        try {
          await s.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
          const before = await publish(gw, "flush", 1);
          await s.until("1", () => offsets(s).length === 1);
          await redis?.client().flushall();
          const after = await publish(gw, "flush", "fresh");
          assert.notEqual(after.epoch, before.epoch);
          await s.until(
            "resync and message",
            () => named(s, "resync").length === 1 && offsets(s).length === 2,
          );
          const resync = named(s, "resync")[0];
          assert.deepEqual(JSON.parse(resync?.data ?? ""), {
            type: "resync",
            channel: "flush",
            epoch: after.epoch,
            offset: 0,
            recovered: false,
          });
          assert.equal(resync?.id, `${after.epoch}:0`);
          const last = named(s, "message")[1];
          assert.equal(last?.id, `${after.epoch}:${after.offset}`);
          assert.equal(
            JSON.parse(last?.data ?? "").epoch,
            after.epoch,
            "the new epoch's first message is marked",
          );
        } finally {
          s.close();
        }
      });
  });
}

describe("GET /sse: refusals, auth, limits, drain, slow consumers", { timeout: 120_000 }, () => {
  after(stopAllGateways);
  const token = (claims: Record<string, unknown>) =>
    new SignJWT({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(SECRET));

  it("the same token sources as WebSocket, and a clear 4xx JSON for bad input and forbidden channels", async () => {
    const gw = await startGateway({
      env: {
        RTGW_AUTH: "jwt",
        RTGW_JWT_SECRET: SECRET,
        RTGW_MAX_SUBSCRIPTIONS: "2",
        RTGW_SUBSCRIBE_BURST: "1",
      },
    });
    const good = await token({ sub: "u1", channels: { subscribe: ["room:*"] } });
    const refused = async (
      path: string,
      headers: Record<string, string>,
      status: number,
      error: string,
      message: RegExp,
    ) => {
      const s = await openSse(`${gw.url}${path}`, headers);
      assert.equal(s.status, status, path);
      assert.equal(s.error?.error, error, path);
      assert.match(s.error?.message ?? "", message, path);
    };
    const auth = { authorization: `Bearer ${good}` };
    await refused("/sse?channel=room:1", {}, 401, "unauthorized", /missing token/);
    await refused(
      "/sse?channel=room:1",
      { authorization: "Bearer nope" },
      401,
      "unauthorized",
      /invalid token/,
    );
    await refused("/sse?channel=lobby", auth, 403, "forbidden", /not allowed to subscribe to lobby/);
    assert.equal((await openSse(`${gw.url}/sse?channel=room:1&channel=lobby`, auth)).error?.channel, "lobby");
    await refused("/sse?channel=room:1&channel=lobby", auth, 403, "forbidden", /lobby/);
    await refused("/sse", auth, 400, "bad_request", /at least one channel/);
    await refused("/sse?channel=bad%20name", auth, 400, "bad_request", /invalid channel name/);
    await refused(
      "/sse?channel=room:1&since=x",
      auth,
      400,
      "bad_request",
      /since must be a non-negative integer/,
    );
    await refused("/sse?channel=room:1&epoch=e", auth, 400, "bad_request", /epoch needs since/);
    await refused(
      "/sse?channel=room:1",
      { ...auth, "last-event-id": "garbage" },
      400,
      "bad_request",
      /Last-Event-ID/,
    );
    await refused(
      "/sse?channel=room:1&channel=room:2&channel=room:3",
      auth,
      400,
      "bad_request",
      /at most 2 channels/,
    );
    // A stream's channels are its subscribes: the subscribe bucket (burst 1 here) applies.
    await refused("/sse?channel=room:1&channel=room:2", auth, 429, "rate_limited", /at most 1 subscribe/);
    for (const [how, url, headers] of [
      ["header", "/sse?channel=room:1", auth],
      ["query", `/sse?channel=room:1&token=${good}`, {}],
      ["cookie", "/sse?channel=room:1", { cookie: `theme=dark; rtgw_token=${good}` }],
    ] as const) {
      const s = await openSse(`${gw.url}${url}`, headers);
      assert.equal(s.status, 200, how);
      await s.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
      s.close();
    }
  });

  it("namespace rules (RTGW_CONFIG): undeclared refused, subscribe: anyone without a right, no recovery → resync", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rtgw-sse-"));
    const configFile = join(dir, "rtgw.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        namespaces: { room: {}, public: { subscribe: "anyone" }, live: { recovery: false } },
      }),
    );
    const gw = await startGateway({
      env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET, RTGW_CONFIG: configFile, RTGW_API_KEY: API_KEY },
    });
    const auth = {
      authorization: `Bearer ${await token({ channels: { subscribe: ["room:*", "live:*"] } })}`,
    };
    // As a WebSocket subscribe is answered (bad_request): the request names no channel that can exist.
    const undeclared = await openSse(`${gw.url}/sse?channel=other:1`, auth);
    assert.equal(undeclared.status, 400);
    assert.match(undeclared.error?.message ?? "", /namespace other is not declared/);
    const open = await openSse(`${gw.url}/sse?channel=public:news`, auth);
    assert.equal(open.status, 200);
    open.close();
    const live = await openSse(`${gw.url}/sse?channel=live:1`, auth);
    await live.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
    await publish(gw, "live:1", 1);
    await publish(gw, "live:1", 2);
    await live.until("2", () => offsets(live).length === 2);
    live.close();
    await publish(gw, "live:1", 3);
    const resumed = await openSse(`${gw.url}/sse?channel=live:1`, { ...auth, "last-event-id": lastId(live) });
    try {
      await resumed.until("resync", (e) => e.some((x) => x.event === "resync"));
      assert.equal(JSON.parse(named(resumed, "resync")[0]?.data ?? "").offset, 3);
      assert.equal(JSON.parse(named(resumed, "subscribed")[0]?.data ?? "").recovered, false);
      assert.deepEqual(offsets(resumed), []);
    } finally {
      resumed.close();
    }
  });

  it("server API orders and token expiry reach streams: unsubscribed, close 4002, close 4003", async () => {
    const gw = await startGateway({
      env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET, RTGW_API_KEY: API_KEY },
    });
    const api = (method: string, body: unknown) =>
      fetch(`${gw.url}/api/${method}`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const rights = { channels: { subscribe: ["room:*"] } };
    const alice = await openSse(`${gw.url}/sse?channel=room:1&channel=room:2`, {
      authorization: `Bearer ${await token({ sub: "alice", ...rights })}`,
    });
    const shortLived = await openSse(`${gw.url}/sse?channel=room:1`, {
      authorization: `Bearer ${await token({ sub: "bob", ...rights, exp: Math.floor(Date.now() / 1000) + 2 })}`,
    });
    await alice.until("subscribed", (e) => e.filter((x) => x.event === "subscribed").length === 2);
    assert.equal((await api("unsubscribe", { user: "alice", channel: "room:1" })).status, 200);
    await alice.until("unsubscribed", (e) => e.some((x) => x.event === "unsubscribed"));
    assert.equal(JSON.parse(named(alice, "unsubscribed")[0]?.data ?? "").channel, "room:1");
    await publish(gw, "room:1", "gone");
    await publish(gw, "room:2", "here");
    await alice.until("room:2", () => offsets(alice).length === 1);
    assert.equal(alice.messages()[0]?.channel, "room:2");
    assert.match(lastId(alice), /^room:2;[^,]+:1$/, "the id no longer names the unsubscribed channel");
    assert.equal((await api("disconnect", { user: "alice" })).status, 200);
    await alice.ended;
    assert.deepEqual(JSON.parse(named(alice, "close")[0]?.data ?? ""), {
      type: "close",
      code: 4002,
      reason: "disconnected by the server",
    });
    await shortLived.ended;
    assert.equal(JSON.parse(named(shortLived, "close")[0]?.data ?? "").code, 4003);
  });

  it("refuses a disallowed Origin, and a full gateway counts WebSockets and streams together", async () => {
    const gw = await startGateway({
      env: { RTGW_MAX_CONNECTIONS: "2", RTGW_ALLOWED_ORIGINS: "https://app.example" },
    });
    const evil = await openSse(`${gw.url}/sse?channel=a`, { origin: "https://evil.example" });
    assert.equal(evil.status, 403);
    assert.equal(evil.error?.error, "origin");
    // CORS: a named origin may read streams and refusals (and is answered the preflight the SDK's fetch makes).
    const preflight = (origin: string) =>
      fetch(`${gw.url}/sse`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "GET",
          "access-control-request-headers": "authorization",
        },
      });
    const ok = await preflight("https://app.example");
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(ok.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.equal((await preflight("https://evil.example")).headers.get("access-control-allow-origin"), null);
    const bad = await fetch(`${gw.url}/sse`, { headers: { origin: "https://app.example" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(bad.headers.get("access-control-allow-credentials"), "true");
    const ws = await connect(gw.wsUrl);
    const s = await openSse(`${gw.url}/sse?channel=a`, { origin: "https://app.example" });
    try {
      assert.equal(s.status, 200);
      const third = await openSse(`${gw.url}/sse?channel=a`);
      assert.equal(third.status, 503);
      assert.equal(third.error?.error, "full");
      assert.equal(await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="full"}'), 1);
    } finally {
      s.close();
      ws.ws.close();
    }
  });

  it("a drain sends a reconnect event (afterMs, retry) and a close event 1012, then ends the stream", async () => {
    const gw = await startGateway({ env: { RTGW_ADMIN_KEY: ADMIN_KEY, RTGW_DRAIN_SECONDS: "2" } });
    const s = await openSse(`${gw.url}/sse?channel=d`);
    // A second stream keeps the process up past the first half of the window (its slot is the later one or
    // this one's is): a stream opened right after the drain began must be refused, not find the process gone.
    const other = await openSse(`${gw.url}/sse?channel=d`);
    await s.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
    await other.until("subscribed", (e) => e.some((x) => x.event === "subscribed"));
    const res = await fetch(`${gw.adminUrl}/admin/drain`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(res.status, 200);
    const late = await openSse(`${gw.url}/sse?channel=d`);
    assert.equal(late.status, 503);
    assert.equal(late.error?.error, "draining");
    await Promise.race([
      s.ended,
      new Promise((_, reject) => setTimeout(() => reject(new Error("not ended")), 10_000)),
    ]);
    const reconnect = named(s, "reconnect")[0];
    assert.ok(reconnect, "a reconnect event");
    const frame = JSON.parse(reconnect.data);
    assert.equal(frame.reason, "draining");
    // The WebSocket drain's jitter: uniform below reconnectJitterMs(window) = max(1 s, min(5 s, window)).
    assert.ok(
      Number.isInteger(frame.afterMs) && frame.afterMs >= 0 && frame.afterMs < 2000,
      `afterMs ${frame.afterMs}`,
    );
    assert.equal(reconnect.retry, frame.afterMs);
    assert.deepEqual(JSON.parse(named(s, "close")[0]?.data ?? ""), {
      type: "close",
      code: 1012,
      reason: "draining",
    });
    assert.equal(await gw.exited, 0);
  });

  it("a stream that does not read past RTGW_MAX_BACKPRESSURE_BYTES is cut and counted as a slow consumer", async () => {
    const gw = await startGateway({ env: { RTGW_API_KEY: API_KEY, RTGW_MAX_BACKPRESSURE_BYTES: "65536" } });
    // A raw socket that sends the request and never reads: the kernel buffers fill, then the gateway's.
    const socket = net.connect(gw.port, "127.0.0.1");
    socket.pause();
    let closed = false;
    socket.on("close", () => {
      closed = true;
    });
    socket.on("error", () => {});
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write("GET /sse?channel=slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(
      "stream open",
      async () => (await metric(gw.metricsUrl, 'rtgw_connections_by_transport{transport="sse"}')) === 1,
    );
    const big = "x".repeat(60_000);
    for (
      let i = 0;
      i < 400 && (await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total")) === 0;
      i++
    )
      await publish(gw, "slow", big);
    assert.equal(await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total"), 1);
    await until(
      "stream forgotten",
      async () => (await metric(gw.metricsUrl, 'rtgw_connections_by_transport{transport="sse"}')) === 0,
    );
    socket.resume();
    await until("socket closed", () => closed);
    socket.destroy();
  });
});
