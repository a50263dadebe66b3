// A failover that loses acknowledged writes (asynchronous replication): the promoted replica lacks the channel's
// last offsets. The channel must get a new epoch there, so subscribers resync and resuming clients are told
// recovered:false; never may an old offset be reissued in the old epoch (a silent skip as a "duplicate").
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { type RedisServer, startRedis } from "../../../test-support/redis.js";
import type { Broker } from "../../src/broker/broker.js";
import { channelKeys } from "../../src/broker/redis/keys.js";
import { range, startBroker, until } from "./broker-support.js";
import { type SwitchProxy, startSwitchProxy } from "./switch-proxy.js";

describe("redis broker across a failover that loses writes", { timeout: 60_000 }, () => {
  let master: RedisServer;
  let replica: RedisServer;
  let proxy: SwitchProxy;
  /** The replica's replication link runs through this, so the test can partition it. */
  let link: SwitchProxy;
  const brokers: Broker[] = [];

  const linkUp = async (client: Redis) =>
    (await client.info("replication")).includes("master_link_status:up");

  before(async () => {
    master = await startRedis();
    link = await startSwitchProxy(master.port);
    replica = await startRedis({ replicaOf: link.port });
    proxy = await startSwitchProxy(master.port);
    const replicaClient = replica.client();
    await until("the replica's link to the master", () => linkUp(replicaClient), 20_000);
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await proxy?.close();
    await link?.close();
    await replica?.stop();
    await master?.stop();
  });

  it("starts a new epoch on the promoted replica: subscribers resync, old positions are not recovered", async () => {
    const pub = await startBroker(proxy.url);
    const sub = await startBroker(proxy.url);
    brokers.push(pub.broker, sub.broker);
    await sub.broker.subscribe("orders");

    // 1..10 reach the replica (WAIT: acknowledged by it).
    const first = [];
    for (const n of range(1, 10)) first.push(await pub.broker.publish("orders", String(n)));
    const masterClient = master.client();
    assert.equal(await masterClient.wait(1, 10_000), 1, "the replica acknowledged 1..10");
    const epoch = first[0]?.epoch;

    // 11..15 are acknowledged by the master only: the replica is cut off (and its link stays down).
    link.cut();
    for (const n of range(11, 15)) {
      const position = await pub.broker.publish("orders", String(n));
      assert.deepEqual(position, { offset: n, epoch });
    }
    await until("the subscriber saw 1..15", () => sub.rec.messages.length === 15);

    // The master dies with 11..15; the replica is promoted with the channel at offset 10, same epoch key.
    await master.kill();
    const promoted = replica.client();
    await promoted.replicaof("NO", "ONE");
    assert.equal(await promoted.get(channelKeys("orders").offset), "10", "the promoted replica lost 11..15");
    proxy.point(replica.port);
    await until("the publisher is healthy on the new master", () => pub.broker.healthy(), 20_000);
    await until("the subscriber is healthy on the new master", () => sub.broker.healthy(), 20_000);

    const next = await pub.broker.publish("orders", "16");
    assert.notEqual(next.epoch, epoch, "a new epoch, not offset 11 reissued in the old one");
    assert.equal(next.offset, 1);

    await until("the subscriber got the new message", () => sub.rec.messages.length === 16);
    const old = sub.rec.messages.filter((m) => m.epoch === epoch);
    assert.deepEqual(
      old.map((m) => m.offset),
      range(1, 15),
      "nothing else was delivered in the old epoch",
    );
    const last = sub.rec.messages[15];
    assert.deepEqual([last?.offset, last?.epoch, last?.data], [1, next.epoch, "16"]);
    assert.deepEqual(
      sub.rec.resyncs.map((r) => r.position),
      [{ offset: 0, epoch: next.epoch }],
      "the subscriber was told to resync before the new epoch's first message",
    );
    assert.deepEqual(sub.rec.timeline("orders").slice(-2), ["resync@0", 1]);

    // A client resuming from offset 15 of the old epoch is not "recovered".
    const resumed = await sub.broker.history("orders", 15, epoch);
    assert.equal(resumed.complete, false);
    assert.equal(resumed.epoch, next.epoch);
  });
});
