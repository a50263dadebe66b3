// The client against a real gateway process (embedded memory broker): round trip, presence, resume across a
// shed (the drain path: reconnect frame, 1012, afterMs, since), terminal 1008, and error codes surfacing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { WebSocket } from "ws";
import { type GatewayProcess, startGateway } from "../../test-support/gateway.js";
import { type Client, connect, type PresenceEvent, RtgwError } from "../src/index.js";
import { httpPublish, recordedSubscriber, recordingWebSocket, stateLog, until } from "./helpers.js";

const API_KEY = "client-test-key-0123456789";
const ADMIN_KEY = "client-test-admin-key-0123456789";
const clients: Client[] = [];
const open = (...args: Parameters<typeof connect>): Client => {
  const client = connect(...args);
  clients.push(client);
  return client;
};
const closeAll = () => {
  for (const c of clients.splice(0)) c.close();
};

describe("client ⇄ gateway (memory broker)", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({
      env: {
        RTGW_API_KEY: API_KEY,
        RTGW_ADMIN_KEY: ADMIN_KEY,
        RTGW_HISTORY_SIZE: "10000",
        RTGW_PUBLISH_RATE: "10000",
        RTGW_PUBLISH_BURST: "10000",
      },
    });
  });
  after(async () => {
    closeAll();
    await gw?.stop();
  });

  it("subscribe/publish round trip: in order, offsets from the publish acks, state events", async () => {
    const sub = open(gw.wsUrl, { WebSocket });
    const states = stateLog(sub);
    const got: Array<{ data: unknown; offset: number }> = [];
    const subscription = sub.subscribe("chat:round", (data, meta) => got.push({ data, offset: meta.offset }));
    const ack = await subscription.ready;
    assert.equal(ack.offset, 0);
    assert.equal(sub.state, "connected");
    assert.ok(sub.connectionId && sub.node, "welcome frame recorded");

    const pub = open(gw.wsUrl, { WebSocket });
    const offsets: number[] = [];
    for (let i = 1; i <= 20; i++)
      offsets.push((await pub.publish("chat:round", { n: i, text: `hello ${i}` })).offset);
    offsets.push(await httpPublish(gw.url, API_KEY, "chat:round", { n: 21, text: "over http" }));
    assert.deepEqual(
      offsets,
      Array.from({ length: 21 }, (_, i) => i + 1),
    );
    await until("21 messages", () => got.length === 21);
    assert.deepEqual(
      got.map((g) => g.offset),
      offsets,
    );
    assert.deepEqual(got[20]?.data, { n: 21, text: "over http" });
    assert.deepEqual(
      states.map((s) => s.state),
      ["connected"],
    );

    subscription.unsubscribe();
    await pub.publish("chat:round", { n: 22 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 21, "nothing after unsubscribe");
  });

  it("presence: list across the gateway and join events for an opted-in subscription", async () => {
    const a = open(gw.wsUrl, { WebSocket });
    const joins: PresenceEvent[] = [];
    a.on("presence", (e) => joins.push(e));
    await a.subscribe("room:p", () => {}, { presence: true }).ready;
    const b = open(gw.wsUrl, { WebSocket });
    await b.subscribe("room:p", () => {}, { presence: true }).ready;
    await until("a join event for b", () =>
      joins.some((j) => j.kind === "join" && j.member.connectionId === b.connectionId),
    );
    const members = await a.presence("room:p");
    assert.deepEqual(members.map((m) => m.connectionId).sort(), [a.connectionId, b.connectionId].sort());
  });

  it("shed under flow: waits the server's afterMs, resumes with since/epoch, no loss, no duplicate", async () => {
    const channel = "feed:shed";
    const subscribers = Array.from({ length: 3 }, () =>
      recordedSubscriber(
        (recording) => open(gw.wsUrl, { WebSocket: recording, backoff: { baseMs: 50, maxMs: 500 } }),
        channel,
      ),
    );
    // Every stream starts at its ack: publishing before it would fall before offset 1 of that subscriber.
    await Promise.all(subscribers.map((s) => s.ready));

    // Publish continuously over HTTP while the gateway sheds every WebSocket over a 1 s window; keep going
    // until every subscriber is back and 100 more went out (bounded: at most 5,000 messages).
    const reconnected = () =>
      subscribers.every((s) =>
        s.states.some((c) => c.state === "connected" && c.previous === "reconnecting"),
      );
    let published = 0;
    let afterBack = -1;
    const publisher = (async () => {
      while (published < 5_000 && (afterBack < 0 || published < afterBack + 100)) {
        await httpPublish(gw.url, API_KEY, channel, { seq: published + 1 });
        published += 1;
        if (afterBack < 0 && reconnected()) afterBack = published;
        if (published % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until("some flow", () => published >= 100);
    const shed = await fetch(`${gw.adminUrl}/admin/shed`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ count: 100, seconds: 1 }),
    });
    assert.equal(shed.status, 200, await shed.text());
    await publisher;
    assert.ok(afterBack > 0, "every subscriber reconnected while messages flowed");
    const total = published;
    await Promise.all(subscribers.map((s) => until("every message", () => s.got.length >= total, 20_000)));
    await new Promise((r) => setTimeout(r, 100));

    for (const s of subscribers) {
      assert.deepEqual(
        s.got,
        Array.from({ length: total }, (_, i) => i + 1),
        "each offset exactly once, in order",
      );
      assert.deepEqual(s.resyncs, []);
      assert.equal(s.notices.length, 1, "one reconnect notice");
      const notice = s.notices[0]!;
      const reconnecting = s.states.find((c) => c.state === "reconnecting");
      const reconnected = s.states.find((c) => c.state === "connected" && c.previous === "reconnecting");
      assert.ok(reconnecting && reconnected, JSON.stringify(s.states));
      assert.equal(reconnecting.closeCode, 1012);
      assert.ok(
        reconnected.at - notice.at >= notice.afterMs - 2, // ms clock granularity
        `reconnected ${reconnected.at - notice.at} ms after a notice of ${notice.afterMs} ms`,
      );
      const subscribes = s.log.sent.filter((f) => f.type === "subscribe");
      assert.equal(subscribes.length, 2);
      assert.equal(subscribes[0]?.since, undefined);
      const resume = subscribes[1]!;
      assert.equal(typeof resume.since, "number");
      assert.ok((resume.since as number) >= 1 && (resume.since as number) < total, `since ${resume.since}`);
      assert.equal(typeof resume.epoch, "string");
    }
  });
});

describe("client ⇄ gateway: errors and terminal closes (JWT auth, tight rate limit)", {
  timeout: 60_000,
}, () => {
  const secret = "client-test-secret-0123456789abcdef";
  let gw: GatewayProcess;
  const token = (channels: { subscribe: string[]; publish: string[] }) =>
    new SignJWT({ channels })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user-1")
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(secret));

  before(async () => {
    gw = await startGateway({
      env: {
        RTGW_AUTH: "jwt",
        RTGW_JWT_SECRET: secret,
        RTGW_PUBLISH_RATE: "1",
        RTGW_PUBLISH_BURST: "1",
        RTGW_RATE_LIMIT_STRIKES: "2",
      },
    });
  });
  after(async () => {
    closeAll();
    await gw?.stop();
  });

  it("publish and subscribe errors carry the server's code; local checks reject before sending", async () => {
    const client = open(gw.wsUrl, {
      WebSocket,
      token: await token({ subscribe: ["chat:*"], publish: ["chat:*"] }),
    });
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));

    const forbidden = await client.publish("news:1", { x: 1 }).catch((e: unknown) => e);
    assert.ok(forbidden instanceof RtgwError);
    assert.equal(forbidden.code, "forbidden");
    assert.equal(forbidden.source, "server");

    const refused = await client.subscribe("news:1", () => {}).ready.catch((e: unknown) => e);
    assert.ok(refused instanceof RtgwError);
    assert.equal(refused.code, "forbidden");
    assert.ok(errors.some((e) => e.code === "forbidden" && e.details.channel === "news:1"));

    const badName = await client.publish("bad channel!", 1).catch((e: unknown) => e);
    assert.ok(badName instanceof RtgwError && badName.code === "bad_request" && badName.source === "client");
    const tooBig = await client.publish("chat:1", "x".repeat(70_000)).catch((e: unknown) => e);
    assert.ok(tooBig instanceof RtgwError && tooBig.code === "bad_request" && tooBig.source === "client");
    // The data alone fits under 64 KiB, the frame around it does not: still refused locally, not with a 1009.
    const frameTooBig = await client.publish("chat:1", "x".repeat(65_536 - 20)).catch((e: unknown) => e);
    assert.ok(frameTooBig instanceof RtgwError && frameTooBig.code === "bad_request", String(frameTooBig));
    assert.equal(client.state, "connected", "a local rejection does not cost the connection");

    const ok = await client.publish("chat:1", { x: 1 });
    assert.equal(ok.offset, 1);
    const limited = await client.publish("chat:1", { x: 2 }).catch((e: unknown) => e);
    assert.ok(limited instanceof RtgwError);
    assert.equal(limited.code, "rate_limited");
    assert.equal(limited.source, "server");
  });

  it("a 1008 close is terminal: state closed, an error event, no reconnect", async () => {
    const recorder = recordingWebSocket();
    const client = open(gw.wsUrl, {
      WebSocket: recorder.WebSocket,
      token: await token({ subscribe: ["chat:*"], publish: ["chat:*"] }),
      backoff: { baseMs: 20, maxMs: 50 },
    });
    const states = stateLog(client);
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));
    await until("connected", () => client.state === "connected");
    // Burst 1, two strikes: the first publish passes, then rate_limited, then the gateway closes with 1008.
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => client.publish("chat:2", { n })));
    assert.equal(results[0]?.status, "fulfilled");
    await until("closed", () => client.state === "closed");
    const terminal = errors.find((e) => e.code === "terminal_close");
    assert.ok(terminal, JSON.stringify(errors));
    assert.equal(terminal.details.closeCode, 1008);
    assert.equal(states.at(-1)?.closeCode, 1008);
    assert.ok(!states.some((s) => s.state === "reconnecting"));
    await new Promise((r) => setTimeout(r, 500)); // 10x the backoff cap: a reconnect would have happened
    assert.equal(recorder.log.opened, 1, "no second connection");
    await assert.rejects(
      client.publish("chat:2", {}),
      (e: unknown) => e instanceof RtgwError && e.code === "closed",
    );
  });

  it("a token provider is asked again on every attempt (an expired token at first, then a fresh one)", async () => {
    let calls = 0;
    const expired = await new SignJWT({ channels: { subscribe: ["*"], publish: [] } })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(secret));
    const fresh = await token({ subscribe: ["*"], publish: [] });
    const client = open(gw.wsUrl, {
      WebSocket,
      token: () => (++calls === 1 ? expired : fresh),
      backoff: { baseMs: 20, maxMs: 100 },
    });
    client.on("error", () => {});
    await client.subscribe("chat:3", () => {}).ready;
    assert.ok(calls >= 2, `token provider called ${calls} times`);
  });
});
