// The admin view's AdminOps answer through the server API's methods: the fleet from the node registry (this
// node's live figures included), the newest `limit` messages oldest first, and disconnect as a fleet order on
// the control channel (each node closes its own sockets of the user).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetAdminOps } from "../../src/admin-view/ops.js";
import type { MethodContext } from "../../src/api/methods.js";
import type { ControlMessage, NodeReport } from "../../src/broker/broker.js";
import { createMemoryBroker } from "../../src/broker/memory.js";
import { createNamespaces } from "../../src/namespaces/namespaces.js";

const T0 = 1_700_000_000_000;

async function setup() {
  const broker = createMemoryBroker({ historySize: 10, historyTtlSeconds: 60, now: Date.now });
  const orders: ControlMessage[] = [];
  await broker.start({
    message: () => {},
    health: () => {},
    presence: () => {},
    resync: () => {},
    control: (m) => orders.push(m),
  });
  // Another node's heartbeat in the registry, and this node's live figures.
  await broker.reportNode(
    { node: "n2", version: "9.9.9", startedAt: T0 - 10_000, connections: 1, channels: { "chat:1": 1 } },
    60_000,
  );
  const live = (): NodeReport => ({
    node: "n1",
    version: "9.9.9",
    startedAt: T0 - 61_700,
    connections: 3,
    channels: { "chat:1": 2, "chat:2": 1, news: 1 },
  });
  let published = 0;
  const context: MethodContext = {
    broker,
    live,
    now: () => T0,
    published: (n) => (published += n),
    namespaces: createNamespaces({ historySize: 10, historyTtlSeconds: 60 }),
  };
  return { ops: fleetAdminOps(context), orders, published: () => published };
}

describe("fleetAdminOps", () => {
  it("info: every node of the registry with its connections, channels, uptime and version", async () => {
    const { ops } = await setup();
    assert.deepEqual(await ops.info(), {
      nodes: [
        { node: "n1", connections: 3, channels: 3, uptimeSeconds: 62, version: "9.9.9" },
        { node: "n2", connections: 1, channels: 1, uptimeSeconds: 10, version: "9.9.9" },
      ],
    });
  });

  it("channels: subscribers summed over the fleet, most first, filtered by a channel or a prefix*", async () => {
    const { ops } = await setup();
    assert.deepEqual((await ops.channels()).channels, [
      { channel: "chat:1", subscribers: 3 },
      { channel: "chat:2", subscribers: 1 },
      { channel: "news", subscribers: 1 },
    ]);
    assert.deepEqual(
      (await ops.channels("chat:*")).channels.map((c) => c.channel),
      ["chat:1", "chat:2"],
    );
    assert.deepEqual((await ops.channels("chat:2")).channels, [{ channel: "chat:2", subscribers: 1 }]);
  });

  it("history: the newest `limit` messages, oldest first, data parsed; publish counted as this node's", async () => {
    const { ops, published } = await setup();
    for (let n = 1; n <= 5; n++) await ops.publish("chat:1", { n });
    const h = await ops.history("chat:1", 2);
    assert.deepEqual(h.messages, [
      { offset: 4, data: { n: 4 } },
      { offset: 5, data: { n: 5 } },
    ]);
    assert.equal(h.offset, 5);
    assert.equal(published(), 5);
  });

  it("disconnect: one order on the control channel naming the user, answered with the nodes reached", async () => {
    const { ops, orders } = await setup();
    assert.deepEqual(await ops.disconnect("alice"), { nodes: 1 });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(orders, [{ kind: "disconnect", user: "alice" }]);
  });
});
