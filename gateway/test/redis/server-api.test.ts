// The server API across a fleet: three gateway processes on one real Redis. Orders sent through one pod act on
// users connected to another (control channel), `channels` and `info` sum every pod (node registry), a pod killed
// with SIGKILL drops out of `info` once its heartbeat's TTL passes, and history/presence read the shared state.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WebSocket } from "ws";
import { CloseCode } from "../../../protocol/index.js";
import type { GatewayProcess } from "../../../test-support/gateway.js";
import type { TestClient } from "../client.js";
import { closedWithin } from "../server-api-support.js";
import { apiFleet, until } from "./fleet.js";

const TTL_SECONDS = 2;

describe("server API across three gateways on one Redis", { timeout: 180_000 }, () => {
  const fleet = apiFleet(3, () => ({ RTGW_NODE_TTL_SECONDS: String(TTL_SECONDS) }));
  const { api, user } = fleet;
  const subscribe = async (c: TestClient, channel: string, presence = false) => {
    assert.equal((await c.request({ type: "subscribe", channel, presence })).type, "ack");
  };
  const infoNodes = async (gw: GatewayProcess) =>
    (await api(gw, "info", {})).body.nodes as Array<{ node: string; connections: number; channels: number }>;

  it("unsubscribe through one pod ends the user's subscription on another", async () => {
    const [g0, g1] = fleet.gws as [GatewayProcess, GatewayProcess];
    const [alice, bob] = [await user(g1, "alice"), await user(g1, "bob")];
    await subscribe(alice, "fleet:news");
    await subscribe(bob, "fleet:news");
    const answer = await api(g0, "unsubscribe", { user: "alice", channel: "fleet:news" });
    assert.deepEqual(answer, { status: 200, body: { nodes: 3 } });
    const frame = await alice.next((f) => f.type === "unsubscribed");
    assert.deepEqual(frame, { type: "unsubscribed", channel: "fleet:news", reason: "server" });
    await api(g0, "publish", { channel: "fleet:news", data: "after" });
    await bob.next((f) => f.type === "message" && f.channel === "fleet:news");
    assert.equal(alice.frames.filter((f) => f.type === "message").length, 0);
  });

  it("disconnect through one pod closes the user's connections on every other pod with 4002", async () => {
    const [g0, g1, g2] = fleet.gws as [GatewayProcess, GatewayProcess, GatewayProcess];
    const [c1, c2, other] = [await user(g1, "carol"), await user(g2, "carol"), await user(g1, "dave")];
    assert.equal((await api(g0, "disconnect", { user: "carol" })).status, 200);
    for (const c of [c1, c2]) assert.equal((await closedWithin(c.closed)).code, CloseCode.Disconnected);
    assert.equal(other.ws.readyState, WebSocket.OPEN);
  });

  it("channels and info sum every pod; presence and history read the fleet's state", async () => {
    const [g0, g1, g2] = fleet.gws as [GatewayProcess, GatewayProcess, GatewayProcess];
    const subs = [
      [g0, "erin", "sum:a"],
      [g1, "erin", "sum:a"],
      [g1, "frank", "sum:a"],
      [g2, "gina", "sum:b"],
    ] as const;
    for (const [gw, sub, channel] of subs) await subscribe(await user(gw, sub), channel, true);
    const want = [
      { channel: "sum:a", subscribers: 3 },
      { channel: "sum:b", subscribers: 1 },
    ];
    // Other pods' figures arrive with their next heartbeat (a third of the TTL).
    await until("channels summed over the pods", async () => {
      const got = await api(g0, "channels", { pattern: "sum:*" });
      return JSON.stringify(got.body) === JSON.stringify({ channels: want });
    });
    await until("info counting every pod's connections", async () => {
      const nodes = await infoNodes(g2);
      return nodes.length === 3 && nodes.every((n) => n.connections >= 1 && n.channels >= 1);
    });

    assert.deepEqual(
      ((await api(g2, "presence", { channel: "sum:a" })).body.members as Array<{ sub: string }>)
        .map((m) => m.sub)
        .sort(),
      ["erin", "erin", "frank"],
    );
    assert.deepEqual((await api(g2, "presence_stats", { channel: "sum:a" })).body, { clients: 3, users: 2 });

    const sent = await api(g1, "broadcast", { channels: ["sum:a", "sum:b"], data: { hello: 1 } });
    assert.equal(sent.status, 200);
    const history = await api(g2, "history", { channel: "sum:a" });
    const results = sent.body.results as Array<{ offset: number; epoch: string }>;
    assert.deepEqual(history.body, {
      messages: [{ offset: results[0]?.offset, data: { hello: 1 } }],
      offset: results[0]?.offset,
      epoch: results[0]?.epoch,
    });
  });

  it("orders still reach every pod after Redis dropped all pub/sub connections (the control channel resubscribes)", async () => {
    const [g0, g1] = fleet.gws as [GatewayProcess, GatewayProcess];
    const admin = fleet.redis.client();
    try {
      await admin.client("KILL", "TYPE", "pubsub");
      await until("every pod listening again", async () => {
        const answer = await api(g0, "disconnect", { user: "nobody" });
        return answer.status === 200 && answer.body.nodes === 3;
      });
      const henry = await user(g1, "henry");
      await api(g0, "disconnect", { user: "henry" });
      assert.equal((await closedWithin(henry.closed)).code, CloseCode.Disconnected);
    } finally {
      admin.disconnect();
    }
  });

  it("a pod killed with SIGKILL leaves info once its heartbeat's TTL passed", async () => {
    const [g0, , g2] = fleet.gws as [GatewayProcess, GatewayProcess, GatewayProcess];
    await until("three nodes", async () => (await infoNodes(g0)).length === 3);
    g2.kill("SIGKILL");
    await g2.exited;
    const killedAt = Date.now();
    await until("two nodes", async () => (await infoNodes(g0)).length === 2, (TTL_SECONDS + 5) * 1000);
    const gone = Date.now() - killedAt;
    assert.ok(gone <= (TTL_SECONDS + 1) * 1000, `gone after ${gone} ms`);
    // A fleet order now reaches the two that are left.
    assert.deepEqual((await api(g0, "disconnect", { user: "nobody" })).body, { nodes: 2 });
  });
});
