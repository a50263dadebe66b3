// The wire protocol against a real gateway process: every frame type and error code, batching, `since`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MessageFrame, ServerFrame } from "../../protocol/index.js";
import type { GatewayProcess } from "../../test-support/gateway.js";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { connect, metric, type TestClient } from "./client.js";

const API_KEY = "test-api-key-0123";
const messagesOf = (c: TestClient, channel: string) =>
  c.frames.filter((f): f is MessageFrame => f.type === "message" && f.channel === channel);
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};
const publishHttp = (gw: GatewayProcess, body: unknown, key: string | null = API_KEY) =>
  fetch(`${gw.url}/api/publish`, {
    method: "POST",
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("wire protocol", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  const clients: TestClient[] = [];
  const client = async () => {
    const c = await connect(gw.wsUrl);
    clients.push(c);
    return c;
  };
  before(async () => {
    gw = await startGateway({
      env: {
        RTGW_API_KEY: API_KEY,
        RTGW_MAX_MESSAGE_BYTES: "1024",
        RTGW_MAX_SUBSCRIPTIONS: "3",
        RTGW_PUBLISH_RATE: "5",
        RTGW_PUBLISH_BURST: "5",
        RTGW_RATE_LIMIT_STRIKES: "5",
        RTGW_HISTORY_SIZE: "5",
      },
    });
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await gw.stop();
  });

  it("welcome, ping/pong", async () => {
    const c = await client();
    const welcome = await c.next((f) => f.type === "welcome");
    assert.ok(welcome.type === "welcome" && welcome.connectionId.length > 0 && welcome.node.length > 0);
    const pong = await c.request({ type: "ping" });
    assert.equal(pong.type, "pong");
  });

  it("subscribe acks the position; publish acks the offset; subscribers get messages", async () => {
    const a = await client();
    const b = await client();
    const ack = await a.request({ type: "subscribe", channel: "room:1" });
    // No `since`, no recovery asked for: the ack says nothing about `recovered` (false would read "history lost").
    assert.deepEqual(
      { ...ack, epoch: undefined },
      { type: "ack", id: (ack as { id: number }).id, offset: 0, epoch: undefined },
    );
    assert.ok(!("recovered" in ack), JSON.stringify(ack));
    const p1 = await b.request({ type: "publish", channel: "room:1", data: { n: 1 } });
    const p2 = await b.request({ type: "publish", channel: "room:1", data: "two" });
    assert.equal(p1.type === "ack" && p1.offset, 1);
    assert.equal(p2.type === "ack" && p2.offset, 2);
    await until(() => messagesOf(a, "room:1").length === 2);
    assert.deepEqual(
      messagesOf(a, "room:1").map((m) => [m.offset, m.data]),
      [
        [1, { n: 1 }],
        [2, "two"],
      ],
    );
    assert.equal(messagesOf(b, "room:1").length, 0, "publisher is not subscribed");
  });

  it("unsubscribe stops delivery; unsubscribing twice is not_found", async () => {
    const a = await client();
    await a.request({ type: "subscribe", channel: "room:2" });
    const ack = await a.request({ type: "unsubscribe", channel: "room:2" });
    assert.equal(ack.type, "ack");
    const again = await a.request({ type: "unsubscribe", channel: "room:2" });
    assert.equal(again.type === "error" && again.code, "not_found");
    await a.request({ type: "publish", channel: "room:2", data: 1 });
    await a.request({ type: "ping" });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(messagesOf(a, "room:2").length, 0);
  });

  it("HTTP publish: 403 without a key configured is covered elsewhere; 401 wrong key, 400 bad body, 200 offset", async () => {
    const a = await client();
    await a.request({ type: "subscribe", channel: "room:3" });
    assert.equal((await publishHttp(gw, { channel: "room:3", data: 1 }, "wrong-key-0000000")).status, 401);
    assert.equal((await publishHttp(gw, { channel: "room:3", data: 1 }, null)).status, 401);
    const notJson = await publishHttp(gw, "{nope");
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { message: string }).message, /JSON/);
    const badChannel = await publishHttp(gw, { channel: "bad channel", data: 1 });
    assert.equal(badChannel.status, 400);
    assert.match(((await badChannel.json()) as { message: string }).message, /channel/);
    assert.equal((await publishHttp(gw, { channel: "room:3" })).status, 400);
    assert.equal((await publishHttp(gw, { channel: "room:3", data: "x".repeat(4000) })).status, 413);
    const ok = await publishHttp(gw, { channel: "room:3", data: { via: "http" } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { offset: number }).offset, 1);
    const m = await a.next((f) => f.type === "message" && f.channel === "room:3");
    assert.deepEqual(m.type === "message" && m.data, { via: "http" });
  });

  it("bad_request for malformed frames, with the id when there is one", async () => {
    const c = await client();
    c.send("not json");
    const e1 = await c.next((f) => f.type === "error");
    assert.ok(e1.type === "error" && e1.code === "bad_request" && e1.id === undefined);
    c.send({ type: "subscribe", id: 77, channel: "has space" });
    const e2 = await c.next((f) => f.type === "error");
    assert.ok(e2.type === "error" && e2.code === "bad_request" && e2.id === 77, JSON.stringify(e2));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const e3 = await c.next((f) => f.type === "error");
    assert.ok(e3.type === "error" && e3.code === "bad_request" && /binary/.test(e3.message));
    const again = await c.request({ type: "subscribe", channel: "dup" });
    assert.equal(again.type, "ack");
    const dup = await c.request({ type: "subscribe", channel: "dup" });
    assert.ok(dup.type === "error" && dup.code === "bad_request");
  });

  it("bounds subscriptions per connection", async () => {
    const c = await client();
    for (const ch of ["s1", "s2", "s3"])
      assert.equal((await c.request({ type: "subscribe", channel: ch })).type, "ack");
    const fourth = await c.request({ type: "subscribe", channel: "s4" });
    assert.ok(fourth.type === "error" && fourth.code === "bad_request" && /at most 3/.test(fourth.message));
    await c.request({ type: "unsubscribe", channel: "s1" });
    assert.equal((await c.request({ type: "subscribe", channel: "s4" })).type, "ack");
  });

  it("rate_limited past the bucket, then close 1008 on sustained abuse", async () => {
    const c = await client();
    const replies: ServerFrame[] = [];
    for (let i = 0; i < 8; i++) replies.push(await c.request({ type: "publish", channel: "rl", data: i }));
    const codes = replies.map((r) => (r.type === "error" ? r.code : r.type));
    assert.deepEqual(codes.slice(0, 5), ["ack", "ack", "ack", "ack", "ack"]);
    assert.ok(
      codes.slice(5).every((x) => x === "rate_limited"),
      JSON.stringify(codes),
    );
    for (let i = 0; i < 10; i++) c.send({ type: "publish", id: 1000 + i, channel: "rl", data: i });
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
  });

  it("a frame over RTGW_MAX_MESSAGE_BYTES closes with 1009", async () => {
    const c = await client();
    c.send({ type: "publish", id: 1, channel: "big", data: "x".repeat(2000) });
    assert.equal((await c.closed).code, 1009);
  });

  it("a frame many times the limit is cut at the transport; the gateway carries on", async () => {
    const c = await client();
    c.send({ type: "publish", id: 1, channel: "huge", data: "x".repeat(64 * 1024) });
    const { code } = await c.closed;
    assert.ok(code === 1009 || code === 1006, `closed with ${code}`);
    const other = await client();
    assert.equal((await other.request({ type: "ping" })).type, "pong");
  });

  it("batches several queued messages for one socket into one array frame", async () => {
    const a = await client();
    await a.request({ type: "subscribe", channel: "batch" });
    const rawBefore = a.raw.length;
    for (let i = 0; i < 5; i++)
      await publishHttp(gw, { channel: "batch", data: i }).then((r) => r.body?.cancel());
    await until(() => messagesOf(a, "batch").length === 5);
    // HTTP publishes arrive in separate ticks; now publish several within one tick through one socket.
    const b = await client();
    // One TCP write carrying four publish frames: they reach the gateway in one read, one broker tick.
    const socket = (b.ws as unknown as { _socket: import("node:net").Socket })._socket;
    socket.cork();
    for (let i = 0; i < 4; i++) b.send({ type: "publish", id: 900 + i, channel: "batch", data: `q${i}` });
    socket.uncork();
    await until(() => messagesOf(a, "batch").length === 9);
    const arrays = a.raw.slice(rawBefore).filter((t) => t.startsWith("["));
    assert.ok(arrays.length >= 1, "expected at least one batched frame");
    assert.deepEqual(
      messagesOf(a, "batch").map((m) => m.offset),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it("subscribe with since replays history then continues live, no gap and no duplicate", async () => {
    const pub = await client();
    // (HTTP publishes are not rate limited; pub's bucket of 5 is kept for the live part.)
    for (let i = 1; i <= 4; i++)
      await publishHttp(gw, { channel: "hist", data: i }).then((r) => r.body?.cancel());
    const a = await client();
    // While the subscribe with since is processed, keep publishing: the stream must still be 3,4,5,... exactly.
    a.send({ type: "subscribe", id: 5000, channel: "hist", since: 2 });
    for (let i = 5; i <= 8; i++) pub.send({ type: "publish", id: 6000 + i, channel: "hist", data: i });
    const ack = await a.next((f) => f.type === "ack" && f.id === 5000);
    assert.ok(ack.type === "ack" && ack.recovered === true, JSON.stringify(ack));
    await until(() => messagesOf(a, "hist").at(-1)?.offset === 8).catch(() => {
      throw new Error(JSON.stringify(a.frames));
    });
    assert.deepEqual(
      messagesOf(a, "hist").map((m) => m.offset),
      [3, 4, 5, 6, 7, 8],
    );
    // Since older than the bounded history (size 5): recovered false, what is left is replayed.
    const b = await client();
    const ack2 = await b.request({ type: "subscribe", channel: "hist", since: 0 });
    assert.ok(ack2.type === "ack" && ack2.recovered === false && ack2.offset === 8);
    await until(() => messagesOf(b, "hist").length === 5);
    assert.deepEqual(
      messagesOf(b, "hist").map((m) => m.offset),
      [4, 5, 6, 7, 8],
    );
    // A foreign epoch: nothing to replay, recovered false.
    const c = await client();
    const ack3 = await c.request({ type: "subscribe", channel: "hist", since: 3, epoch: "other" });
    assert.ok(ack3.type === "ack" && ack3.recovered === false);
    // Since at the head: recovered true, nothing replayed.
    const d = await client();
    const ack4 = await d.request({
      type: "subscribe",
      channel: "hist",
      since: 8,
      epoch: ack.type === "ack" ? ack.epoch : "",
    });
    assert.ok(ack4.type === "ack" && ack4.recovered === true);
    await pub.request({ type: "publish", channel: "hist", data: 9 });
    await until(() => messagesOf(d, "hist").length === 1 && messagesOf(c, "hist").length === 1);
    assert.equal(messagesOf(c, "hist")[0]?.offset, 9);
  });

  it("presence: list across subscribers, join/leave frames with presence:true", async () => {
    const watcher = await client();
    await watcher.request({ type: "subscribe", channel: "pres", presence: true });
    const other = await client();
    const welcome = await other.next((f) => f.type === "welcome");
    const otherId = welcome.type === "welcome" ? welcome.connectionId : "";
    // Presence only where asked: a subscriber without presence on is no member and announces nothing.
    const lurker = await client();
    await lurker.request({ type: "subscribe", channel: "pres" });
    await other.request({ type: "subscribe", channel: "pres", presence: true });
    const join = await watcher.next((f) => f.type === "join" && f.member.connectionId === otherId);
    assert.equal(join.type === "join" && join.channel, "pres");
    const list = await watcher.request({ type: "presence", channel: "pres" });
    assert.ok(list.type === "ack");
    assert.equal(list.members?.length, 2, JSON.stringify(list.members));
    const lurkerId = lurker.frames.find((f) => f.type === "welcome");
    const lurkerConn = lurkerId?.type === "welcome" ? lurkerId.connectionId : "";
    assert.ok(!list.members?.some((m) => m.connectionId === lurkerConn), "the lurker is no member");
    assert.ok(
      !watcher.frames.some((f) => f.type === "join" && f.member.connectionId === lurkerConn),
      "and no join was announced for it",
    );
    lurker.close();
    other.close();
    const leave = await watcher.next((f) => f.type === "leave" && f.member.connectionId === otherId);
    assert.equal(leave.type, "leave");
  });

  it("HTTP routes: healthz, readyz, stats, page, 404", async () => {
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
    const stats = (await (await fetch(`${gw.url}/api/stats`)).json()) as Record<string, unknown>;
    assert.equal(typeof stats.connections, "number");
    assert.equal(typeof stats.channels, "number");
    assert.equal(stats.draining, false);
    assert.equal(typeof stats.node, "string");
    const page = await fetch(`${gw.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>realtime-gateway<\/title>/);
    assert.equal((await fetch(`${gw.url}/nope`)).status, 404);
  });

  it("metrics count connections, messages and latency", async () => {
    const open = await metric(gw.metricsUrl, "rtgw_connections");
    const stats = (await (await fetch(`${gw.url}/api/stats`)).json()) as { connections: number };
    assert.equal(open, stats.connections);
    const a = await client();
    await a.request({ type: "subscribe", channel: "m" });
    const b = await client();
    await b.request({ type: "subscribe", channel: "m" });
    const received = await metric(gw.metricsUrl, "rtgw_messages_received_total");
    const delivered = await metric(gw.metricsUrl, "rtgw_messages_delivered_total");
    const latencyCount = await metric(gw.metricsUrl, "rtgw_delivery_latency_seconds_count");
    await a.request({ type: "publish", channel: "m", data: 1 });
    await until(() => messagesOf(b, "m").length === 1 && messagesOf(a, "m").length === 1);
    assert.equal(await metric(gw.metricsUrl, "rtgw_messages_received_total"), received + 1);
    assert.equal(await metric(gw.metricsUrl, "rtgw_messages_delivered_total"), delivered + 2);
    assert.equal(await metric(gw.metricsUrl, "rtgw_delivery_latency_seconds_count"), latencyCount + 1);
    assert.equal(await metric(gw.metricsUrl, "rtgw_connections"), open + 2);
    assert.ok((await metric(gw.metricsUrl, "rtgw_connections_opened_total")) >= open + 2);
    assert.equal(await metric(gw.metricsUrl, "rtgw_broker_connected"), 1);
    assert.equal(await metric(gw.metricsUrl, "rtgw_draining"), 0);
    assert.equal(await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="full"}'), 0);
    const text = await (await fetch(gw.metricsUrl)).text();
    for (const name of [
      "rtgw_slow_consumer_disconnects_total",
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
    ])
      assert.match(text, new RegExp(`^${name} `, "m"));
  });
});

describe("without RTGW_API_KEY and RTGW_ADMIN_KEY", { timeout: 30_000 }, () => {
  it("publish and admin routes answer 403", async () => {
    const gw = await startGateway();
    try {
      for (const url of [
        `${gw.url}/api/publish`,
        `${gw.adminUrl}/admin/drain`,
        `${gw.adminUrl}/admin/shed`,
      ]) {
        const res = await fetch(url, {
          method: "POST",
          body: "{}",
          headers: { authorization: "Bearer x" },
        });
        assert.equal(res.status, 403, url);
      }
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 200, "still ready: drain was refused");
    } finally {
      await gw.stop();
    }
  });
});

after(stopAllGateways);
