// Backend hooks with real processes: a gateway process (RTGW_CONFIG with every hook) against a fake backend (a
// node http server in this process, hooks-backend.ts). Connect by cookie without a JWT (allow, deny, disconnect,
// timeout), server-side channels, subscribe and publish hooks (allow, deny, rewrite, timeout: unavailable and
// nothing published), the bounded pool, refresh (extended, ended with 4003), and the metrics per hook.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import type { ServerFrame } from "../../protocol/index.js";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { openSse } from "../../test-support/sse.js";
import { sleep, until } from "../../test-support/wait.js";
import { connect, metric, type TestClient, upgradeStatus } from "./client.js";
import { type FakeBackend, SLOW_MS, startBackend } from "./hooks-backend.js";

const SECRET = "hooks-test-secret-0123456789abcdef";
const TIMEOUT_MS = { connect: 800, subscribe: 800, publish: 500, refresh: 800 };
const POOL = 2;

const code = (f: ServerFrame) => (f.type === "error" ? f.code : f.type);

describe("backend hooks", { timeout: 120_000 }, () => {
  let backend: FakeBackend;
  let gw: GatewayProcess;
  const clients: TestClient[] = [];
  const cookie = async (session: string) => {
    const c = await connect(gw.wsUrl, {
      headers: { cookie: `session=${session}; theme=dark`, origin: "http://app.test", "x-private": "no" },
    });
    clients.push(c);
    return c;
  };
  const callsOf = (hook: string) => backend.calls.filter((c) => c.hook === hook);

  before(async () => {
    backend = await startBackend();
    const hook = (name: keyof typeof TIMEOUT_MS) => ({
      url: `${backend.url}/${name}`,
      timeoutMs: TIMEOUT_MS[name],
      maxConnections: POOL,
      headers: { "x-hook": name, "x-backend-secret": "s3cret" },
    });
    const dir = mkdtempSync(join(tmpdir(), "rtgw-hooks-"));
    const file = join(dir, "rtgw.json");
    writeFileSync(
      file,
      JSON.stringify({
        namespaces: { hooked: { proxySubscribe: true, proxyPublish: true }, open: {}, news: {} },
        undeclared: "default",
        proxy: {
          connect: hook("connect"),
          subscribe: hook("subscribe"),
          publish: hook("publish"),
          refresh: hook("refresh"),
        },
      }),
    );
    gw = await startGateway({
      env: {
        RTGW_AUTH: "jwt",
        RTGW_JWT_SECRET: SECRET,
        RTGW_CONFIG: file,
        RTGW_ALLOWED_ORIGINS: "http://app.test",
      },
    });
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await stopAllGateways();
    await backend?.close();
  });

  it("connect: a cookie and no JWT is accepted with the backend's user and rights; only allow-listed headers go", async () => {
    const c = await cookie("alice");
    const welcome = await c.next((f) => f.type === "welcome");
    const call = callsOf("connect").at(-1);
    assert.ok(call && welcome.type === "welcome");
    assert.deepEqual(Object.keys(call.body).sort(), ["client", "headers", "remoteAddr", "transport"]);
    assert.equal(call.body.client, welcome.connectionId, "the backend learns the connection id");
    assert.equal(call.body.transport, "websocket");
    assert.equal(call.body.remoteAddr, "127.0.0.1");
    assert.deepEqual(call.body.headers, { cookie: "session=alice; theme=dark", origin: "http://app.test" });
    assert.equal(call.headers["x-backend-secret"], "s3cret", "the configured headers are sent");
    assert.match(String(call.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
    // The backend's rights: open:* yes, anything else no.
    assert.equal(code(await c.request({ type: "subscribe", channel: "open:1" })), "ack");
    assert.equal(code(await c.request({ type: "subscribe", channel: "other:1" })), "forbidden");
    // Its session is the backend's: a JWT refresh frame may not replace it.
    const token = await new SignJWT({ sub: "mallory", channels: { subscribe: ["*"] } })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    assert.equal(code(await c.request({ type: "refresh", token })), "bad_request");
  });

  it("connect: server-side channels are subscribed on open and their messages delivered", async () => {
    const c = await cookie("alice");
    const subscribed = await Promise.all(
      ["news:alice", "news:all"].map((ch) => c.next((f) => f.type === "subscribed" && f.channel === ch)),
    );
    assert.equal(subscribed.length, 2);
    assert.equal(code(await c.request({ type: "publish", channel: "news:alice", data: { hi: 1 } })), "ack");
    const m = await c.next((f) => f.type === "message" && f.channel === "news:alice");
    assert.deepEqual(m.type === "message" && m.data, { hi: 1 });
    // Already held by the server: a client subscribe to it is refused, not doubled.
    assert.equal(code(await c.request({ type: "subscribe", channel: "news:all" })), "bad_request");
  });

  it("connect: refused (401), disconnect (401), no cookie (401), backend too slow (503 within the timeout); a JWT skips the hook", async () => {
    assert.equal(await upgradeStatus(gw.wsUrl, { cookie: "session=nobody" }), 401);
    assert.equal(await upgradeStatus(gw.wsUrl, { cookie: "session=gone" }), 401);
    assert.equal(await upgradeStatus(gw.wsUrl), 401);
    const started = Date.now();
    assert.equal(await upgradeStatus(gw.wsUrl, { cookie: "session=slow" }), 503);
    const waited = Date.now() - started;
    assert.ok(waited >= TIMEOUT_MS.connect - 50 && waited < SLOW_MS, `answered after ${waited} ms`);
    const before = callsOf("connect").length;
    const token = await new SignJWT({ sub: "jwt-user" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    const c = await connect(`${gw.wsUrl}?token=${token}`, { headers: { cookie: "session=alice" } });
    clients.push(c);
    await c.next((f) => f.type === "welcome");
    assert.equal(
      callsOf("connect").length,
      before,
      "a connection with a JWT is not sent to the connect hook",
    );
  });

  it("connect over SSE: a cookie stream is admitted by the backend with its rights; refused 401, too slow 503", async () => {
    const headers = (session: string) => ({ cookie: `session=${session}`, origin: "http://app.test" });
    const before = callsOf("connect").length;
    const s = await openSse(`${gw.url}/sse?channel=open:ssehook`, headers("alice"));
    assert.equal(s.status, 200, JSON.stringify(s.error));
    try {
      await s.until("welcome", (events) => events.some((e) => e.event === "welcome"));
      const welcome = JSON.parse(s.events.find((e) => e.event === "welcome")?.data ?? "{}");
      const call = callsOf("connect").at(-1);
      assert.equal(callsOf("connect").length, before + 1);
      assert.equal(call?.body.transport, "sse");
      assert.equal(call?.body.client, welcome.connectionId, "the backend learns the stream's connection id");
      assert.deepEqual(call?.body.headers, {
        cookie: "session=alice",
        origin: "http://app.test",
        "user-agent": "node", // fetch's own, allow-listed like a browser's
      });
      await s.until("subscribed", (events) => events.some((e) => e.event === "subscribed"));
    } finally {
      s.close();
    }
    // The backend's rights, not allow-all: alice may read open:* only.
    const other = await openSse(`${gw.url}/sse?channel=other:ssehook`, headers("alice"));
    assert.deepEqual([other.status, other.error?.error], [403, "forbidden"]);
    for (const session of ["nobody", "gone"]) {
      const refused = await openSse(`${gw.url}/sse?channel=open:ssehook`, headers(session));
      assert.deepEqual([refused.status, refused.error?.error], [401, "unauthorized"], session);
    }
    const started = Date.now();
    const slow = await openSse(`${gw.url}/sse?channel=open:ssehook`, headers("slow"));
    const waited = Date.now() - started;
    assert.deepEqual([slow.status, slow.error?.error], [503, "unavailable"]);
    assert.ok(waited >= TIMEOUT_MS.connect - 50 && waited < SLOW_MS, `answered after ${waited} ms`);
  });

  it("subscribe: the backend allows (in place of rights), denies (forbidden); too slow is unavailable", async () => {
    const c = await cookie("alice");
    assert.equal(code(await c.request({ type: "subscribe", channel: "hooked:1" })), "ack");
    const call = callsOf("subscribe").at(-1);
    assert.deepEqual(
      { ...call?.body, client: typeof call?.body.client },
      {
        client: "string",
        user: "alice",
        channel: "hooked:1",
      },
    );
    const denied = await c.request({ type: "subscribe", channel: "hooked:deny" });
    assert.deepEqual(
      [code(denied), denied.type === "error" && denied.message],
      ["forbidden", "not yours: hooked:deny"],
    );
    const started = Date.now();
    const slow = await c.request({ type: "subscribe", channel: "hooked:subslow" }, 5000);
    const waited = Date.now() - started;
    assert.equal(code(slow), "unavailable");
    assert.ok(waited >= TIMEOUT_MS.subscribe - 50 && waited < SLOW_MS, `answered after ${waited} ms`);
    // Not subscribed after either refusal: unsubscribing finds nothing.
    assert.equal(code(await c.request({ type: "unsubscribe", channel: "hooked:deny" })), "not_found");
    assert.equal(code(await c.request({ type: "unsubscribe", channel: "hooked:subslow" })), "not_found");
    // Subscribed by the backend's leave, without the rights: presence is allowed there too.
    assert.equal(code(await c.request({ type: "presence", channel: "hooked:1" })), "ack");
    assert.equal(code(await c.request({ type: "presence", channel: "hooked:2" })), "forbidden");
  });

  it("subscribe hook over SSE: the backend decides each hooked channel before the stream opens", async () => {
    const token = await new SignJWT({ sub: "sse-user", channels: { subscribe: ["open:*"] } })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    const auth = { authorization: `Bearer ${token}` };
    const before = callsOf("subscribe").length;
    const allowed = await openSse(`${gw.url}/sse?channel=hooked:sse&channel=open:sse`, auth);
    assert.equal(allowed.status, 200, JSON.stringify(allowed.error));
    allowed.close();
    const asked = callsOf("subscribe").slice(before);
    assert.deepEqual(
      asked.map((c) => [c.body.user, c.body.channel]),
      [["sse-user", "hooked:sse"]],
      "asked for the hooked channel only, with the token's user",
    );
    const denied = await openSse(`${gw.url}/sse?channel=open:sse&channel=hooked:deny`, auth);
    assert.deepEqual(
      [denied.status, denied.error?.channel, denied.error?.message],
      [403, "hooked:deny", "not yours: hooked:deny"],
    );
    const slow = await openSse(`${gw.url}/sse?channel=hooked:subslow`, auth);
    assert.deepEqual([slow.status, slow.error?.error], [503, "unavailable"]);
  });

  it("subscribe: a JWT connection's hook-allowed subscription survives a token refresh without that right", async () => {
    const jwt = (exp: string) =>
      new SignJWT({ sub: "j", channels: { subscribe: ["open:*"] } })
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(SECRET));
    const c = await connect(`${gw.wsUrl}?token=${await jwt("1h")}`);
    clients.push(c);
    assert.equal(code(await c.request({ type: "subscribe", channel: "hooked:jwt" })), "ack");
    assert.equal(callsOf("subscribe").at(-1)?.body.user, "j");
    assert.equal(code(await c.request({ type: "refresh", token: await jwt("2h") })), "ack");
    await sleep(100);
    assert.deepEqual(
      c.frames.filter((f) => f.type === "error"),
      [],
      "no subscription ended by the refresh",
    );
    assert.equal(code(await c.request({ type: "unsubscribe", channel: "hooked:jwt" })), "ack");
  });

  it("publish: allowed as sent, rewritten by the backend, denied or too slow: nothing published", async () => {
    const sub = await cookie("alice");
    const pub = await cookie("alice");
    for (const channel of [
      "hooked:plain",
      "hooked:rewrite",
      "hooked:pubdeny",
      "hooked:pubslow",
      "hooked:garbage",
      "hooked:huge",
    ])
      assert.equal(code(await sub.request({ type: "subscribe", channel })), "ack");
    assert.equal(
      code(await pub.request({ type: "publish", channel: "hooked:plain", data: { n: 1 } })),
      "ack",
    );
    assert.equal(
      code(await pub.request({ type: "publish", channel: "hooked:rewrite", data: { n: 2 } })),
      "ack",
    );
    const plain = await sub.next((f) => f.type === "message" && f.channel === "hooked:plain");
    const rewritten = await sub.next((f) => f.type === "message" && f.channel === "hooked:rewrite");
    assert.deepEqual(plain.type === "message" && plain.data, { n: 1 });
    assert.deepEqual(rewritten.type === "message" && rewritten.data, { rewritten: { n: 2 }, by: "alice" });
    const calls = callsOf("publish").length;
    assert.equal(
      code(await pub.request({ type: "publish", channel: "hooked:pubdeny", data: 3 })),
      "forbidden",
    );
    assert.equal(
      code(await pub.request({ type: "publish", channel: "hooked:garbage", data: 4 })),
      "unavailable",
    );
    // A rewrite past RTGW_MAX_MESSAGE_BYTES is not published either.
    assert.equal(
      code(await pub.request({ type: "publish", channel: "hooked:huge", data: 4 })),
      "unavailable",
    );
    const started = Date.now();
    assert.equal(
      code(await pub.request({ type: "publish", channel: "hooked:pubslow", data: 5 }, 5000)),
      "unavailable",
    );
    const waited = Date.now() - started;
    assert.ok(waited >= TIMEOUT_MS.publish - 50 && waited < SLOW_MS, `answered after ${waited} ms`);
    // The slow backend answers allow later: still nothing is published, and the call was made once (no retry).
    await sleep(SLOW_MS);
    const late = sub.frames.filter(
      (f) => f.type === "message" && /pubdeny|pubslow|garbage|huge/.test(f.channel),
    );
    assert.deepEqual(late, []);
    assert.equal(callsOf("publish").length, calls + 4, "one call per publish, never retried");
  });

  it("pool: more concurrent calls than maxConnections queue on at most maxConnections sockets", async () => {
    const c = await cookie("alice");
    backend.resetCounts();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.request({ type: "subscribe", channel: `hooked:pool${i}` }, 5000)),
    );
    assert.deepEqual(answers.map(code), Array(8).fill("ack"));
    assert.equal(
      backend.peak.get("subscribe"),
      POOL,
      "calls in flight at the backend: the pool's bound, reached",
    );
    assert.ok(
      (backend.sockets.get("subscribe")?.size ?? 0) <= POOL,
      "sockets opened: at most maxConnections",
    );
  });

  it("refresh: a session near its end is extended by the backend, or ended with 4003", async () => {
    const short = await cookie("short");
    const ending = await cookie("ending");
    const closed = await ending.closed;
    assert.equal(closed.code, 4003);
    await sleep(3000); // past the first expireAt (2 s after connect)
    assert.equal(short.ws.readyState, short.ws.OPEN, "extended by the refresh hook");
    assert.equal(code(await short.request({ type: "ping" })), "pong");
    const refreshes = callsOf("refresh").filter((c) => c.body.user === "short");
    assert.ok(refreshes.length >= 1);
    assert.deepEqual(Object.keys(refreshes[0]?.body ?? {}).sort(), ["client", "user"]);
  });

  it("metrics per hook: calls by result, errors by reason, latency", async () => {
    const m = (name: string) => metric(gw.metricsUrl, name);
    await until(
      "metrics",
      async () => (await m('rtgw_proxy_calls_total{hook="refresh",result="allow"}')) >= 1,
    );
    assert.ok((await m('rtgw_proxy_calls_total{hook="connect",result="allow"}')) >= 4);
    assert.ok((await m('rtgw_proxy_calls_total{hook="connect",result="refuse"}')) >= 2);
    assert.ok((await m('rtgw_proxy_calls_total{hook="connect",result="disconnect"}')) >= 1);
    assert.ok((await m('rtgw_proxy_calls_total{hook="subscribe",result="unavailable"}')) >= 1);
    assert.ok((await m('rtgw_proxy_calls_total{hook="publish",result="rewrite"}')) >= 1);
    assert.ok((await m('rtgw_proxy_errors_total{hook="publish",reason="timeout"}')) >= 1);
    assert.ok((await m('rtgw_proxy_errors_total{hook="publish",reason="invalid"}')) >= 1);
    assert.ok((await m('rtgw_proxy_errors_total{hook="connect",reason="timeout"}')) >= 1);
    assert.ok((await m('rtgw_proxy_duration_seconds_count{hook="subscribe"}')) >= 10);
  });
});

describe("connect hook under RTGW_AUTH=none", { timeout: 60_000 }, () => {
  let backend: FakeBackend;
  let gw: GatewayProcess;
  before(async () => {
    backend = await startBackend();
    const file = join(mkdtempSync(join(tmpdir(), "rtgw-hooks-")), "rtgw.yaml");
    writeFileSync(
      file,
      `proxy:\n  connect: { url: "${backend.url}/connect", headers: { x-hook: connect } }\n`,
    );
    gw = await startGateway({ env: { RTGW_AUTH: "none", RTGW_CONFIG: file } });
  });
  after(async () => {
    await stopAllGateways();
    await backend?.close();
  });

  it("every connection asks the backend, and gets its rights instead of allow-all", async () => {
    assert.equal(await upgradeStatus(gw.wsUrl), 401, "no session: refused, though RTGW_AUTH=none");
    const c = await connect(gw.wsUrl, { headers: { cookie: "session=alice" } });
    try {
      assert.equal(code(await c.request({ type: "subscribe", channel: "open:1" })), "ack");
      assert.equal(code(await c.request({ type: "subscribe", channel: "other:1" })), "forbidden");
    } finally {
      c.ws.terminate();
    }
    assert.equal(backend.calls.filter((call) => call.hook === "connect").length, 2);
  });
});
