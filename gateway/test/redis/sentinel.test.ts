// The Redis broker through Sentinel (redis+sentinel://host:port/<master name>): ioredis asks Sentinel for the
// master, for both the command and the subscriber connection.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RedisSentinelServer, startRedisSentinel } from "../../../test-support/redis.js";
import type { Broker } from "../../src/broker/broker.js";
import { pubsubChannel } from "../../src/broker/redis/keys.js";
import { range, startBroker, until } from "./broker-support.js";

describe("redis broker through Sentinel", { timeout: 60_000 }, () => {
  let sentinel: RedisSentinelServer;
  const brokers: Broker[] = [];
  before(async () => {
    sentinel = await startRedisSentinel();
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await sentinel?.stop();
  });

  it("publishes and delivers through the master Sentinel names", async () => {
    const a = await startBroker(sentinel.url);
    const b = await startBroker(sentinel.url);
    brokers.push(a.broker, b.broker);
    assert.equal(a.broker.healthy(), true);
    await b.broker.subscribe("watched");
    const master = sentinel.master.client();
    const numsub = (await master.pubsub("NUMSUB", pubsubChannel("watched"))) as [string, number];
    assert.equal(Number(numsub[1]), 1, "the subscription is on the master Sentinel reported");
    for (const n of range(1, 10)) await a.broker.publish("watched", String(n));
    await until("10 messages", () => b.rec.messages.length === 10);
    assert.deepEqual(
      b.rec.messages.map((m) => m.data),
      range(1, 10).map(String),
    );
  });
});
