// The server API on one gateway process (memory broker): every method's answer shape, 401 without the key, 400 for
// bad input and past the limits, fleet orders on this node (disconnect closes 4002, unsubscribe sends
// `unsubscribed`, both as the SDK sees them), and the per-method metrics.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import {
  type Client,
  connect as connectSdk,
  type RtgwError,
  type StateChange,
} from "../../client/src/index.js";
import { CloseCode } from "../../protocol/index.js";
import * as shapes from "../../protocol/server-api.js";
import { API_LIMITS } from "../../protocol/server-api.js";
import type { GatewayProcess } from "../../test-support/gateway.js";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { until } from "../../test-support/wait.js";
import { connect, metric, type TestClient } from "./client.js";
import { callApi, closedWithin, JWT_ENV, userToken } from "./server-api-support.js";

const API_KEY = "server-api-test-key-0123";
const METHODS = [
  "publish",
  "broadcast",
  "history",
  "presence",
  "presence_stats",
  "unsubscribe",
  "disconnect",
  "channels",
  "info",
];

describe("server API (one gateway, memory broker)", { timeout: 120_000 }, () => {
  let gw: GatewayProcess;
  const sockets: TestClient[] = [];
  const sdks: Client[] = [];
  const api = (method: string, body: unknown, key: string | null = API_KEY) =>
    callApi(gw.url, method, body, key);
  const user = async (sub: string) => {
    const c = await connect(`${gw.wsUrl}?token=${await userToken(sub)}`);
    sockets.push(c);
    return c;
  };
  const subscribe = async (c: TestClient, channel: string, presence = false) => {
    const ack = await c.request({ type: "subscribe", channel, presence });
    assert.equal(ack.type, "ack");
  };

  before(async () => {
    gw = await startGateway({ env: { ...JWT_ENV, RTGW_API_KEY: API_KEY, RTGW_HISTORY_SIZE: "50" } });
  });
  after(async () => {
    for (const c of sdks) c.close();
    for (const c of sockets) c.close();
    await stopAllGateways();
  });

  it("answers 401 to every method without the key or with a wrong one", async () => {
    for (const method of METHODS) {
      for (const key of [null, "wrong-key-0123456789"]) {
        const answer = await api(method, {}, key);
        assert.equal(answer.status, 401, `${method} with key ${key}`);
        assert.equal(answer.body.error, "unauthorized");
      }
    }
  });

  it("answers 400 naming the field for bad input and past the limits", async () => {
    const tooMany = Array.from({ length: API_LIMITS.broadcastChannels + 1 }, (_, i) => `c${i}`);
    const cases: Array<[string, unknown, RegExp]> = [
      ["publish", "{not json", /not valid JSON/],
      ["publish", { channel: "a b", data: 1 }, /^channel: /],
      ["broadcast", { channels: [], data: 1 }, /^channels: .*at least one/],
      ["broadcast", { channels: tooMany, data: 1 }, /^channels: at most 100/],
      ["broadcast", { channels: ["a", "a"], data: 1 }, /repeat/],
      ["broadcast", { channels: ["a"] }, /^data: /],
      ["history", { channel: "h", limit: API_LIMITS.historyLimit + 1 }, /^limit: /],
      ["history", { channel: "h", since: -1 }, /^since: /],
      ["history", { channel: "h", extra: true }, /extra/],
      ["presence", {}, /^channel: /],
      ["presence_stats", { channel: "" }, /^channel: /],
      ["unsubscribe", { channel: "room" }, /^user: /],
      ["disconnect", { user: "" }, /^user: /],
      ["channels", { pattern: 5 }, /^pattern: /],
      ["info", { verbose: true }, /verbose/],
    ];
    for (const [method, body, message] of cases) {
      const answer = await api(method, body);
      assert.equal(answer.status, 400, `${method} ${JSON.stringify(body)}`);
      assert.equal(answer.body.error, "bad_request");
      assert.match(String(answer.body.message), message, `${method} ${JSON.stringify(body)}`);
    }
  });

  it("publish and broadcast answer one offset per channel; history pages by since and limit", async () => {
    const one = await api("publish", { channel: "b1", data: { n: 0 } });
    assert.equal(one.status, 200);
    assert.equal(one.body.offset, 1);
    const both = await api("broadcast", { channels: ["b1", "b2"], data: { n: 1 } });
    assert.equal(both.status, 200);
    const results = both.body.results as Array<{ channel: string; offset: number; epoch: string }>;
    assert.deepEqual(
      results.map((r) => [r.channel, r.offset]),
      [
        ["b1", 2],
        ["b2", 1],
      ],
    );
    assert.equal(typeof results[0]?.epoch, "string");

    for (let n = 1; n <= 5; n++)
      assert.equal((await api("publish", { channel: "h", data: { n } })).status, 200);
    const all = await api("history", { channel: "h" });
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.body).sort(), ["epoch", "messages", "offset"]);
    assert.equal(all.body.offset, 5);
    assert.deepEqual(
      all.body.messages,
      [1, 2, 3, 4, 5].map((n) => ({ offset: n, data: { n } })),
    );
    const page = await api("history", { channel: "h", since: 2, limit: 2 });
    assert.deepEqual(
      (page.body.messages as Array<{ offset: number }>).map((m) => m.offset),
      [3, 4],
    );
    const latest = await api("history", { channel: "h", limit: 2 });
    assert.deepEqual(
      (latest.body.messages as Array<{ offset: number }>).map((m) => m.offset),
      [4, 5],
    );
    const none = await api("history", { channel: "never-published" });
    assert.deepEqual(none.body.messages, []);
    assert.equal(none.body.offset, 0);
  });

  it("presence, presence_stats, channels and info describe the subscribers", async () => {
    const [a1, a2, b] = [await user("alice"), await user("alice"), await user("bob")];
    for (const c of [a1, a2, b]) await subscribe(c, "room:1", true);
    await subscribe(b, "room:2");

    const presence = await api("presence", { channel: "room:1" });
    assert.equal(presence.status, 200);
    const members = presence.body.members as Array<{ sub?: string; node: string; connectionId: string }>;
    assert.deepEqual(members.map((m) => m.sub).sort(), ["alice", "alice", "bob"]);
    assert.deepEqual(await api("presence_stats", { channel: "room:1" }), {
      status: 200,
      body: { clients: 3, users: 2 },
    });

    const rooms = await api("channels", { pattern: "room:*" });
    assert.deepEqual(rooms.body, {
      channels: [
        { channel: "room:1", subscribers: 3 },
        { channel: "room:2", subscribers: 1 },
      ],
    });
    const exact = await api("channels", { pattern: "room:2" });
    assert.deepEqual(exact.body, { channels: [{ channel: "room:2", subscribers: 1 }] });

    // An empty body is an empty request.
    const info = await api("info", "");
    assert.equal(info.status, 200);
    const nodes = info.body.nodes as Array<Record<string, unknown>>;
    assert.equal(nodes.length, 1);
    const node = nodes[0] as Record<string, unknown>;
    assert.equal(node.version, "0.1.0");
    assert.ok((node.connections as number) >= 3);
    assert.ok((node.channels as number) >= 2);
    assert.equal(typeof node.uptimeSeconds, "number");
    assert.equal(typeof node.node, "string");
  });

  it("unsubscribe ends that user's subscription (an `unsubscribed` frame) and no other", async () => {
    const [carol1, carol2, dave] = [await user("carol"), await user("carol"), await user("dave")];
    for (const c of [carol1, carol2, dave]) await subscribe(c, "news");
    await subscribe(carol1, "other");
    const answer = await api("unsubscribe", { user: "carol", channel: "news" });
    assert.deepEqual(answer, { status: 200, body: { nodes: 1 } });
    for (const c of [carol1, carol2]) {
      const frame = await c.next((f) => f.type === "unsubscribed");
      assert.deepEqual(frame, { type: "unsubscribed", channel: "news", reason: "server" });
    }
    await api("publish", { channel: "news", data: "after" });
    await api("publish", { channel: "other", data: "still" });
    await dave.next((f) => f.type === "message" && f.channel === "news");
    await carol1.next((f) => f.type === "message" && f.channel === "other");
    assert.equal(
      carol1.frames.concat(carol2.frames).filter((f) => f.type === "message" && f.channel === "news").length,
      0,
    );
  });

  it("disconnect closes every connection of that user with 4002, and only those", async () => {
    const [erin1, erin2, frank] = [await user("erin"), await user("erin"), await user("frank")];
    assert.deepEqual(await api("disconnect", { user: "erin" }), { status: 200, body: { nodes: 1 } });
    for (const c of [erin1, erin2]) {
      const closed = await closedWithin(c.closed);
      assert.equal(closed.code, CloseCode.Disconnected);
    }
    assert.equal(frank.ws.readyState, WebSocket.OPEN);
  });

  it("the SDK drops a subscription the server ended and stops reconnecting after 4002", async () => {
    const errors: RtgwError[] = [];
    const states: StateChange[] = [];
    const sdk = connectSdk(gw.wsUrl, { WebSocket, token: () => userToken("gina") });
    sdks.push(sdk);
    sdk.on("error", (e) => errors.push(e));
    sdk.on("state", (s) => states.push(s));
    await sdk.subscribe("sdk", () => {}).ready;
    await api("unsubscribe", { user: "gina", channel: "sdk" });
    await until("an unsubscribed error", () => errors.some((e) => e.code === "unsubscribed"));
    assert.equal(errors.find((e) => e.code === "unsubscribed")?.details.channel, "sdk");

    await api("disconnect", { user: "gina" });
    await until("the client closed", () => states.some((s) => s.state === "closed"));
    const terminal = errors.find((e) => e.code === "terminal_close");
    assert.equal(terminal?.details.closeCode, CloseCode.Disconnected);
    assert.equal(states.filter((s) => s.state === "reconnecting").length, 0);
    // The channel ended by the server was not resubscribed: no subscriber is left on this node.
    assert.deepEqual((await api("channels", { pattern: "sdk" })).body, { channels: [] });
  });

  it("every answer parses with its response schema from protocol/server-api.ts", async () => {
    const c = await user("shape");
    await subscribe(c, "shape", true);
    const calls: Array<[string, unknown, { parse: (v: unknown) => unknown }]> = [
      ["publish", { channel: "shape", data: [1] }, shapes.publishResponse],
      ["broadcast", { channels: ["shape", "shape2"], data: null }, shapes.broadcastResponse],
      ["history", { channel: "shape" }, shapes.historyResponse],
      ["presence", { channel: "shape" }, shapes.presenceResponse],
      ["presence_stats", { channel: "shape" }, shapes.presenceStatsResponse],
      ["channels", {}, shapes.channelsResponse],
      ["info", {}, shapes.infoResponse],
      ["unsubscribe", { user: "nobody", channel: "shape" }, shapes.fleetActionResponse],
      ["disconnect", { user: "nobody" }, shapes.fleetActionResponse],
    ];
    for (const [method, body, schema] of calls) {
      const answer = await api(method, body);
      assert.equal(answer.status, 200, method);
      assert.doesNotThrow(() => schema.parse(answer.body), method);
    }
  });

  it("counts and times each method", async () => {
    const before =
      (await metric(gw.metricsUrl, 'rtgw_api_requests_total{method="history",status="200"}')) || 0;
    await api("history", { channel: "h" });
    await api("history", { channel: "h" });
    assert.equal(
      await metric(gw.metricsUrl, 'rtgw_api_requests_total{method="history",status="200"}'),
      before + 2,
    );
    assert.ok((await metric(gw.metricsUrl, 'rtgw_api_requests_total{method="info",status="401"}')) >= 2);
    assert.ok(
      (await metric(gw.metricsUrl, 'rtgw_api_request_duration_seconds_count{method="history"}')) >= 2,
    );
  });
});
