// This node's AdminOps over the memory broker and stand-in sockets: subscriber counts and the pattern filter,
// the newest `limit` messages oldest first, and disconnect closing only the user's open connections.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { localAdminOps } from "../../src/admin-view/ops.js";
import { ANONYMOUS } from "../../src/auth.js";
import { createMemoryBroker } from "../../src/broker/memory.js";
import { addChannel, newConnection, type Socket } from "../../src/connection.js";

function socket(sub: string | undefined, channels: string[]) {
  const conn = newConnection({ ...ANONYMOUS, sub });
  for (const c of channels) addChannel(conn, c);
  const ended: { code: number; reason: string }[] = [];
  const ws = {
    getUserData: () => conn,
    end: (code: number, reason: string) => {
      ended.push({ code, reason });
      conn.closed = true;
    },
  };
  return { ws: ws as unknown as Socket, ended, conn };
}

async function setup() {
  const broker = createMemoryBroker({ historySize: 10, historyTtlSeconds: 60, now: Date.now });
  await broker.start({ message: () => {}, health: () => {}, presence: () => {}, resync: () => {} });
  const alice = socket("alice", ["chat:1", "chat:2"]);
  const alice2 = socket("alice", ["news"]);
  const bob = socket("bob", ["chat:1"]);
  const sockets = [alice, alice2, bob];
  const ops = localAdminOps({
    nodeId: "n1",
    version: "9.9.9",
    broker,
    sockets: () => sockets.map((s) => s.ws),
    channelCount: () => 3,
    uptimeSeconds: () => 61.7,
  });
  return { broker, ops, alice, alice2, bob };
}

describe("localAdminOps", () => {
  it("info: this node with its connections, channels, uptime and version", async () => {
    const { ops } = await setup();
    assert.deepEqual(await ops.info(), {
      nodes: [{ node: "n1", connections: 3, channels: 3, uptimeSeconds: 61, version: "9.9.9" }],
    });
  });

  it("channels: subscriber counts, most first, filtered by a substring", async () => {
    const { ops } = await setup();
    assert.deepEqual((await ops.channels()).channels, [
      { channel: "chat:1", subscribers: 2 },
      { channel: "chat:2", subscribers: 1 },
      { channel: "news", subscribers: 1 },
    ]);
    assert.deepEqual(
      (await ops.channels("chat:")).channels.map((c) => c.channel),
      ["chat:1", "chat:2"],
    );
  });

  it("history: the newest `limit` messages, oldest first, data parsed; publish goes through the broker", async () => {
    const { ops } = await setup();
    for (let n = 1; n <= 5; n++) await ops.publish("chat:1", { n });
    const h = await ops.history("chat:1", 2);
    assert.deepEqual(h.messages, [
      { offset: 4, data: { n: 4 } },
      { offset: 5, data: { n: 5 } },
    ]);
    assert.equal(h.offset, 5);
  });

  it("disconnect: every open connection of the user with 4002 (terminal, as the server API), nobody else's", async () => {
    const { ops, alice, alice2, bob } = await setup();
    assert.deepEqual(await ops.disconnect("alice"), { disconnected: 2 });
    assert.deepEqual(
      [alice.ended.map((e) => e.code), alice2.ended.map((e) => e.code), bob.ended],
      [[4002], [4002], []],
    );
    assert.deepEqual(
      await ops.disconnect("alice"),
      { disconnected: 0 },
      "already closed ones are not counted",
    );
  });
});
