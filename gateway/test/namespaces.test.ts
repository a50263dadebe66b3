// Channel namespaces on one gateway process (memory broker, RTGW_CONFIG from a temporary YAML file): each rule as a
// client and the server API see it, and a bad file making `rtgw gateway` exit 2 naming the file and the field.
// The same history rules over Redis: redis/namespaces.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServerFrame } from "../../protocol/index.js";
import type { GatewayProcess } from "../../test-support/gateway.js";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { connect, type TestClient } from "./client.js";
import { NAMESPACES_YAML, type TempConfig, tokenWith, writeConfig } from "./namespaces-support.js";
import { callApi, JWT_ENV, userToken } from "./server-api-support.js";

const API_KEY = "namespaces-test-key-0123";

/** The frame is an error with this code and a message matching `message`. */
function refused(frame: ServerFrame, code: string, message: RegExp): void {
  if (frame.type !== "error") assert.fail(`expected an error, got ${JSON.stringify(frame)}`);
  assert.equal(frame.code, code, frame.message);
  assert.match(frame.message, message);
}

function acked(frame: ServerFrame): Extract<ServerFrame, { type: "ack" }> {
  if (frame.type !== "ack") assert.fail(`expected an ack, got ${JSON.stringify(frame)}`);
  return frame;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("channel namespaces (one gateway, memory broker)", { timeout: 120_000 }, () => {
  let gw: GatewayProcess;
  let config: TempConfig;
  const sockets: TestClient[] = [];
  const api = (method: string, body: unknown) => callApi(gw.url, method, body, API_KEY);
  /** A connection whose token allows exactly these channels (default: every channel, both ways). */
  const client = async (sub: string, rights?: { subscribe?: string[]; publish?: string[] }) => {
    const token = rights ? await tokenWith(sub, rights) : await userToken(sub);
    const c = await connect(`${gw.wsUrl}?token=${token}`);
    sockets.push(c);
    return c;
  };

  before(async () => {
    config = writeConfig(NAMESPACES_YAML);
    gw = await startGateway({ env: { ...JWT_ENV, RTGW_API_KEY: API_KEY, RTGW_CONFIG: config.path } });
  });
  after(async () => {
    for (const c of sockets) c.ws.terminate();
    await stopAllGateways();
    config.remove();
  });

  it("refuses an undeclared namespace on every path, naming it", async () => {
    const c = await client("u1");
    const named = /namespace nope is not declared \(channel nope:1\)/;
    refused(await c.request({ type: "subscribe", channel: "nope:1" }), "bad_request", named);
    refused(await c.request({ type: "publish", channel: "nope:1", data: 1 }), "bad_request", named);
    refused(await c.request({ type: "presence", channel: "nope:1" }), "bad_request", named);
    acked(await c.request({ type: "subscribe", channel: "lobby" })); // no colon: the default namespace
    for (const [method, body] of [
      ["publish", { channel: "nope:1", data: 1 }],
      ["history", { channel: "nope:1" }],
      ["presence", { channel: "nope:1" }],
      ["presence_stats", { channel: "nope:1" }],
    ] as const) {
      const answer = await api(method, body);
      assert.equal(answer.status, 400, method);
      assert.equal(answer.body.error, "bad_request", method);
      assert.match(String(answer.body.message), named, method);
    }
    // A broadcast with one refused channel publishes nothing at all.
    const before = await api("history", { channel: "chat:b" });
    const broadcast = await api("broadcast", { channels: ["chat:b", "nope:1"], data: 1 });
    assert.equal(broadcast.status, 400);
    assert.match(String(broadcast.body.message), named);
    assert.equal((await api("history", { channel: "chat:b" })).body.offset, before.body.offset);
  });

  it("subscribe: anyone lets a connection without the right subscribe (and read presence), not before its token", async () => {
    const c = await client("u2", {}); // no rights at all
    refused(await c.request({ type: "subscribe", channel: "chat:1" }), "forbidden", /chat:1/);
    acked(await c.request({ type: "subscribe", channel: "open:1", presence: true }));
    acked(await c.request({ type: "presence", channel: "open:1" }));
    refused(
      await c.request({ type: "publish", channel: "open:1", data: 1 }),
      "forbidden",
      /publish to open:1/,
    );
    assert.equal((await api("publish", { channel: "open:1", data: { hi: 1 } })).status, 200);
    await c.next((f) => f.type === "message" && f.channel === "open:1");
    // A refresh to a token still without the right keeps the subscription: the namespace allows it, not the token.
    acked(await c.request({ type: "refresh", token: await tokenWith("u2", {}, "20m") }));
    await pause(100);
    assert.equal(c.frames.filter((f) => f.type === "error" && f.channel === "open:1").length, 0);
    // A connection that has not sent its token yet may not, even there.
    const waiting = await connect(`${gw.wsUrl}?auth=frame`);
    sockets.push(waiting);
    waiting.send({ type: "subscribe", id: 1, channel: "open:2" });
    assert.equal((await waiting.closed).code, 1008);
  });

  it("publish: server refuses client publishes; the server API publishes and broadcasts", async () => {
    const c = await client("u3");
    acked(await c.request({ type: "subscribe", channel: "feed:1" }));
    refused(
      await c.request({ type: "publish", channel: "feed:1", data: 1 }),
      "forbidden",
      /only the server API may publish to feed:1/,
    );
    const one = await api("publish", { channel: "feed:1", data: "from the server" });
    assert.equal(one.status, 200);
    const message = await c.next((f) => f.type === "message" && f.channel === "feed:1");
    assert.deepEqual(message.type === "message" && [message.offset, message.data], [1, "from the server"]);
    const many = await api("broadcast", { channels: ["feed:1", "feed:2"], data: 2 });
    assert.equal(many.status, 200);
    assert.deepEqual(
      (many.body.results as Array<{ offset?: number }>).map((r) => r.offset),
      [2, 1],
    );
    acked(await c.request({ type: "publish", channel: "chat:p", data: 1 })); // other namespaces as before
  });

  it("recovery: false (and historySize: 0): a resume is answered recovered:false from now, no replay", async () => {
    const c = await client("u4");
    for (const channel of ["live:1", "bare:1"]) {
      for (let n = 1; n <= 3; n++) assert.equal((await api("publish", { channel, data: n })).status, 200);
      // The SDK resumes with since after every reconnect: the gap is announced, the subscription goes on.
      const resumed = acked(await c.request({ type: "subscribe", channel, since: 0 }));
      assert.deepEqual([resumed.recovered, resumed.offset], [false, 3], channel);
      assert.equal((await api("publish", { channel, data: 4 })).status, 200);
      const next = await c.next((f) => f.type === "message" && f.channel === channel);
      assert.deepEqual(
        next.type === "message" && [next.offset, next.data],
        [4, 4],
        `${channel}: live, no replay`,
      );
      assert.equal(
        c.frames.filter((f) => f.type === "message" && f.channel === channel).length,
        1,
        `${channel}: none of 1-3 replayed`,
      );
    }
    const fresh = acked(await c.request({ type: "subscribe", channel: "live:2" }));
    assert.equal(fresh.recovered, undefined, "no since: nothing to say about recovery");
    const kept = acked(await c.request({ type: "subscribe", channel: "chat:r", since: 0 }));
    assert.equal(kept.recovered, true, "a namespace with recovery replays as before");
  });

  it("presence: false refuses presence in subscribes, queries and the server API", async () => {
    const c = await client("u5");
    const off = /presence is off in namespace quiet/;
    refused(await c.request({ type: "subscribe", channel: "quiet:1", presence: true }), "bad_request", off);
    acked(await c.request({ type: "subscribe", channel: "quiet:1" }));
    refused(await c.request({ type: "presence", channel: "quiet:1" }), "bad_request", off);
    for (const method of ["presence", "presence_stats"]) {
      const answer = await api(method, { channel: "quiet:1" });
      assert.equal(answer.status, 400, method);
      assert.match(String(answer.body.message), off, method);
    }
    assert.equal((await api("presence_stats", { channel: "chat:1" })).status, 200);
  });

  it("joinLeave: false sends no join or leave frames; the presence list still works", async () => {
    for (const [channel, expected] of [
      ["chat:jl", 3], // its own join, b's join, b's leave
      ["silent:jl", 0],
    ] as const) {
      const a = await client(`a-${channel}`);
      acked(await a.request({ type: "subscribe", channel, presence: true }));
      const b = await client(`b-${channel}`);
      acked(await b.request({ type: "subscribe", channel, presence: true }));
      const list = acked(await a.request({ type: "presence", channel }));
      assert.equal(list.members?.length, 2, channel);
      acked(await b.request({ type: "unsubscribe", channel }));
      if (expected > 0) await a.next((f) => f.type === "leave" && f.channel === channel);
      else await pause(300); // a leave would have come by now (it did on chat:jl)
      const seen = a.frames.filter((f) => (f.type === "join" || f.type === "leave") && f.channel === channel);
      assert.equal(seen.length, expected, `${channel}: ${JSON.stringify(seen)}`);
    }
  });

  it("keeps each namespace's history size: a resume past it is not recovered; size 0 keeps none", async () => {
    let epoch = "";
    for (const channel of ["small:1", "chat:h", "bare:h"])
      for (let i = 1; i <= 10; i++) {
        const answer = await api("publish", { channel, data: i });
        epoch = String(answer.body.epoch);
      }
    const c = await client("u6");
    const lost = acked(await c.request({ type: "subscribe", channel: "small:1", since: 0, epoch }));
    assert.equal(lost.recovered, false, "history size 3 cannot reach back to offset 1");
    const kept = acked(await c.request({ type: "subscribe", channel: "chat:h", since: 0, epoch }));
    assert.equal(kept.recovered, true, "the default size (100) can");
    const c2 = await client("u7");
    const near = acked(await c2.request({ type: "subscribe", channel: "small:1", since: 7, epoch }));
    assert.equal(near.recovered, true);
    for (const offset of [8, 9, 10])
      await c2.next((f) => f.type === "message" && f.channel === "small:1" && f.offset === offset);

    const small = await api("history", { channel: "small:1" });
    assert.deepEqual(
      (small.body.messages as Array<{ offset: number }>).map((m) => m.offset),
      [8, 9, 10],
    );
    const bare = await api("history", { channel: "bare:h", since: 2 });
    assert.equal(bare.status, 200);
    assert.deepEqual([bare.body.messages, bare.body.offset, bare.body.epoch], [[], 10, epoch]);
  });
});

describe("a bad RTGW_CONFIG", { timeout: 60_000 }, () => {
  after(stopAllGateways);

  it("makes rtgw gateway exit 2 with a sentence naming the file and the field", async () => {
    const bad = writeConfig("namespaces:\n  chat: { historySize: -1, presense: true }\n", "bad.yaml");
    try {
      await assert.rejects(startGateway({ env: { RTGW_CONFIG: bad.path } }), (err: Error) => {
        assert.match(err.message, /exited with 2 before ready/);
        assert.match(err.message, new RegExp(`RTGW_CONFIG ${bad.path}: namespaces\\.chat\\.historySize`));
        assert.match(err.message, /namespaces\.chat\.presense is not an option/);
        return true;
      });
      const missing = `${bad.path}.missing`;
      await assert.rejects(startGateway({ env: { RTGW_CONFIG: missing } }), (err: Error) => {
        assert.match(err.message, /exited with 2/);
        assert.match(err.message, new RegExp(`RTGW_CONFIG ${missing}: cannot be read`));
        return true;
      });
    } finally {
      bad.remove();
    }
  });
});
