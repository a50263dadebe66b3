import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BrokerMessage, PresenceEvent } from "../../src/broker/broker.js";
import { createMemoryBroker } from "../../src/broker/memory.js";

const tick = () => new Promise((r) => setImmediate(r));

async function started(
  historySize = 3,
  ttlSeconds = 60,
  clock = { t: 1_000_000 },
  joinLeaveOf?: (channel: string) => boolean,
) {
  const broker = createMemoryBroker({
    historySize,
    historyTtlSeconds: ttlSeconds,
    now: () => clock.t,
    joinLeaveOf,
  });
  const batches: BrokerMessage[][] = [];
  const presence: PresenceEvent[] = [];
  await broker.start({
    message: (b) => batches.push([...b]),
    health: () => {},
    presence: (e) => presence.push(e),
    resync: () => {},
  });
  return { broker, batches, presence, clock };
}

describe("memory broker", () => {
  it("assigns per-channel offsets from 1 under one epoch", async () => {
    const { broker } = await started();
    const a1 = await broker.publish("a", "1");
    const a2 = await broker.publish("a", "2");
    const b1 = await broker.publish("b", "1");
    assert.deepEqual([a1.offset, a2.offset, b1.offset], [1, 2, 1]);
    assert.equal(a1.epoch, b1.epoch);
    assert.deepEqual(await broker.position("a"), { offset: 2, epoch: a1.epoch });
    assert.deepEqual(await broker.position("never"), { offset: 0, epoch: a1.epoch });
    await broker.close();
  });

  it("delivers only subscribed channels, batched per tick", async () => {
    const { broker, batches } = await started();
    await broker.subscribe("a");
    await broker.publish("a", "1");
    await broker.publish("b", "1");
    await broker.publish("a", "2");
    await tick();
    assert.deepEqual(
      batches.map((b) => b.map((m) => `${m.channel}:${m.offset}`)),
      [["a:1", "a:2"]],
    );
    await broker.unsubscribe("a");
    await broker.publish("a", "3");
    await tick();
    assert.equal(batches.length, 1);
    await broker.close();
  });

  it("history: bounded by size; complete only when it reaches back to since+1 in the same epoch", async () => {
    const { broker } = await started(3);
    for (let i = 1; i <= 5; i++) await broker.publish("h", String(i));
    const { epoch } = await broker.position("h");
    const cases: [number, string | undefined, number[], boolean][] = [
      [2, undefined, [3, 4, 5], true],
      [3, epoch, [4, 5], true],
      [1, epoch, [3, 4, 5], false],
      [0, undefined, [3, 4, 5], false],
      [5, epoch, [], true],
      [9, epoch, [], false],
      [2, "another-epoch", [], false],
    ];
    for (const [since, e, offsets, complete] of cases) {
      const h = await broker.history("h", since, e);
      assert.deepEqual(
        [h.messages.map((m) => m.offset), h.complete, h.offset],
        [offsets, complete, 5],
        `since ${since} epoch ${e}`,
      );
    }
    await broker.close();
  });

  it("history: drops messages older than the TTL", async () => {
    const { broker, clock } = await started(10, 60);
    await broker.publish("t", "old");
    clock.t += 61_000;
    await broker.publish("t", "new");
    const h = await broker.history("t", 0);
    assert.deepEqual(
      h.messages.map((m) => m.data),
      ["new"],
    );
    assert.equal(h.complete, false);
    await broker.close();
  });

  it("history: each channel's own size and TTL (historyOf, from its namespace); size 0 keeps none", async () => {
    const clock = { t: 1_000_000 };
    const limits: Record<string, { historySize: number; historyTtlSeconds: number }> = {
      small: { historySize: 2, historyTtlSeconds: 600 },
      brief: { historySize: 50, historyTtlSeconds: 5 },
      none: { historySize: 0, historyTtlSeconds: 600 },
    };
    const broker = createMemoryBroker({
      historySize: 50,
      historyTtlSeconds: 600,
      historyOf: (channel) => limits[channel] ?? { historySize: 50, historyTtlSeconds: 600 },
      now: () => clock.t,
    });
    for (const channel of ["small", "brief", "none", "other"])
      for (const i of [1, 2, 3, 4]) await broker.publish(channel, String(i));
    const offsets = async (channel: string) =>
      (await broker.history(channel, 0)).messages.map((m) => m.offset);
    assert.deepEqual(await offsets("small"), [3, 4]);
    assert.deepEqual(await offsets("other"), [1, 2, 3, 4]);
    const none = await broker.history("none", 0);
    assert.deepEqual(
      [none.messages.length, none.offset, none.complete],
      [0, 4, false],
      "offsets still advance",
    );
    clock.t += 6_000;
    assert.deepEqual(await offsets("brief"), [], "past its TTL");
    assert.deepEqual(await offsets("other"), [1, 2, 3, 4], "the default TTL keeps it");
    await broker.close();
  });

  it("presence: join/leave events and the member list", async () => {
    const { broker, presence } = await started();
    const m1 = { connectionId: "c1", node: "n" };
    const m2 = { connectionId: "c2", sub: "bob", node: "n" };
    await broker.presenceJoin("p", m1);
    await broker.presenceJoin("p", m2);
    assert.deepEqual(await broker.presenceList("p"), [m1, m2]);
    await broker.presenceLeave("p", m1);
    await broker.presenceLeave("p", m1); // twice: no second event
    assert.deepEqual(await broker.presenceList("p"), [m2]);
    assert.deepEqual(
      presence.map((e) => `${e.kind}:${e.member.connectionId}`),
      ["join:c1", "join:c2", "leave:c1"],
    );
    await broker.close();
  });

  it("presence with joinLeave off: no join/leave events, the member list still kept", async () => {
    const { broker, presence } = await started(3, 60, { t: 0 }, (channel) => channel !== "quiet");
    const m = { connectionId: "c1", node: "n" };
    for (const channel of ["quiet", "loud"]) {
      await broker.presenceJoin(channel, m);
      assert.deepEqual(await broker.presenceList(channel), [m]);
      await broker.presenceLeave(channel, m);
      assert.deepEqual(await broker.presenceList(channel), []);
    }
    assert.deepEqual(
      presence.map((e) => `${e.kind}:${e.channel}`),
      ["join:loud", "leave:loud"],
    );
    await broker.close();
  });
});
