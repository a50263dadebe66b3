// The Redis broker against a real redis-server: offsets, the atomic publish script, history caps and TTLs,
// epochs, refcounted subscriptions, outages (unavailable → reconnect → gap fill or resync), canary health, presence.
import assert from "node:assert/strict";
import { createConnection, createServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { freePort, type RedisServer, startRedis } from "../../../test-support/redis.js";
import { type Broker, BrokerUnavailableError } from "../../src/broker/broker.js";
import { channelKeys, pubsubChannel } from "../../src/broker/redis/keys.js";
import { range, sleep, startBroker, until } from "./broker-support.js";

describe("redis broker", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let admin: Redis;
  const brokers: Broker[] = [];
  const open = async (...args: Parameters<typeof startBroker>) => {
    const started = await startBroker(...args);
    brokers.push(started.broker);
    return started;
  };
  const numsub = async (channel: string) => {
    const reply = (await admin.pubsub("NUMSUB", pubsubChannel(channel))) as [string, number];
    return Number(reply[1]);
  };

  before(async () => {
    redis = await startRedis();
    admin = redis.client();
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await redis?.stop();
  });

  it("assigns every concurrent publish its own offset, in one epoch, and fans out in order", async () => {
    const a = await open(redis.url);
    const b = await open(redis.url);
    const watcher = await open(redis.url);
    await watcher.broker.subscribe("offsets");
    const published = await Promise.all(
      range(1, 200).map((i) => (i % 2 ? a.broker : b.broker).publish("offsets", JSON.stringify({ i }))),
    );
    assert.deepEqual(
      published.map((p) => p.offset).sort((x, y) => x - y),
      range(1, 200),
    );
    assert.equal(new Set(published.map((p) => p.epoch)).size, 1);
    await until("200 messages", () => watcher.rec.messages.length === 200);
    assert.deepEqual(
      watcher.rec.messages.map((m) => m.offset),
      range(1, 200),
    );
    assert.equal(watcher.rec.messages[0]?.epoch, published[0]?.epoch);
    assert.ok(watcher.rec.batches < 200, "subscriber messages arrive batched");
    const first = watcher.rec.messages.find((m) => m.offset === published[0]?.offset);
    assert.equal(first?.data, JSON.stringify({ i: 1 }));
    assert.equal(typeof first?.publishedAt, "number");
  });

  it("keeps a capped history with TTLs refreshed on publish, and reports completeness", async () => {
    const { broker } = await open(redis.url, { historySize: 5, historyTtlSeconds: 120 });
    for (const i of range(1, 12)) await broker.publish("capped", String(i));
    const keys = channelKeys("capped");
    assert.equal(await admin.xlen(keys.history), 5);
    for (const key of [keys.offset, keys.epoch, keys.history]) {
      const ttl = await admin.ttl(key);
      assert.ok(ttl > 100 && ttl <= 120, `${key} has TTL ${ttl}`);
    }
    await admin.expire(keys.offset, 10);
    await broker.publish("capped", "13");
    assert.ok((await admin.ttl(keys.offset)) > 100, "publish refreshes the TTL");

    const whole = await broker.history("capped", 8);
    assert.deepEqual(
      whole.messages.map((m) => [m.offset, m.data]),
      range(9, 13).map((i) => [i, String(i)]),
    );
    assert.equal(whole.complete, true);
    assert.equal(whole.offset, 13);
    const tooOld = await broker.history("capped", 2);
    assert.equal(tooOld.complete, false);
    assert.deepEqual(
      tooOld.messages.map((m) => m.offset),
      range(9, 13),
    );
    const upToDate = await broker.history("capped", 13, whole.epoch);
    assert.deepEqual([upToDate.complete, upToDate.messages.length], [true, 0]);
    const otherEpoch = await broker.history("capped", 10, "not-the-epoch");
    assert.equal(otherEpoch.complete, false);
    assert.deepEqual(await broker.position("capped"), { offset: 13, epoch: whole.epoch });
  });

  it("pods with different history sizes (mid-rollout): a read is never truncated to the reader's size", async () => {
    const writer = await open(redis.url, { historySize: 50 });
    const reader = await open(redis.url, { historySize: 10 });
    for (const i of range(1, 40)) await writer.broker.publish("sizes", String(i));
    const h = await reader.broker.history("sizes", 5);
    // Complete means every offset after since up to the position: 6..40, not the reader's 10 of them.
    assert.deepEqual([h.complete, h.offset, h.messages.map((m) => m.offset)], [true, 40, range(6, 40)]);
  });

  it("without history (size 0) reports a hole as incomplete", async () => {
    const { broker } = await open(redis.url, { historySize: 0 });
    for (const _ of range(1, 3)) await broker.publish("no-history", "{}");
    assert.equal(await admin.exists(channelKeys("no-history").history), 0);
    const behind = await broker.history("no-history", 1);
    assert.deepEqual([behind.complete, behind.messages.length, behind.offset], [false, 0, 3]);
    assert.equal((await broker.history("no-history", 3)).complete, true);
  });

  it("gives a channel a new epoch when its keys are lost, and tells subscribers", async () => {
    const { broker } = await open(redis.url);
    const sub = await open(redis.url);
    await sub.broker.subscribe("epochs");
    const before = await broker.publish("epochs", "1");
    await broker.publish("epochs", "2");
    await until("2 messages", () => sub.rec.messages.length === 2);
    await admin.flushall();
    const afterFlush = await broker.publish("epochs", "fresh");
    assert.equal(afterFlush.offset, 1);
    assert.notEqual(afterFlush.epoch, before.epoch);
    await until("resync and message", () => sub.rec.timeline("epochs").length === 4);
    assert.deepEqual(sub.rec.timeline("epochs"), [1, 2, "resync@0", 1]);
    assert.equal(sub.rec.resyncs[0]?.position.epoch, afterFlush.epoch);
    const old = await broker.history("epochs", 2, before.epoch);
    assert.equal(old.complete, false);
  });

  it("an unpublished channel keeps the epoch it was first read with", async () => {
    const { broker } = await open(redis.url);
    const position = await broker.position("quiet");
    assert.equal(position.offset, 0);
    const published = await broker.publish("quiet", "1");
    assert.equal(published.epoch, position.epoch);
  });

  it("subscribes once per channel in Redis however many local subscribers, and unsubscribes with the last", async () => {
    const { broker } = await open(redis.url);
    await Promise.all([broker.subscribe("rc"), broker.subscribe("rc"), broker.subscribe("rc")]);
    assert.equal(await numsub("rc"), 1);
    await broker.unsubscribe("rc");
    await broker.unsubscribe("rc");
    assert.equal(await numsub("rc"), 1);
    await broker.unsubscribe("rc");
    await until("NUMSUB 0", async () => (await numsub("rc")) === 0);
    // Quick churn ends in the state of the last call.
    await Promise.all([broker.subscribe("rc"), broker.unsubscribe("rc"), broker.subscribe("rc")]);
    await sleep(100);
    assert.equal(await numsub("rc"), 1);
  });

  it("is live when subscribe resolves: position then live messages leave no gap", async () => {
    const publisher = await open(redis.url);
    const sub = await open(redis.url);
    let publishing = true;
    let sent = 0;
    const flow = (async () => {
      while (publishing && sent < 2000) {
        await Promise.all(range(1, 10).map(() => publisher.broker.publish("merge", "{}")));
        sent += 10;
      }
    })();
    await until("some flow", () => sent >= 100);
    await sub.broker.subscribe("merge");
    const start = await sub.broker.position("merge");
    await until("more flow", () => sent >= start.offset + 100);
    publishing = false;
    await flow;
    const end = (await sub.broker.position("merge")).offset;
    await until("all after the position", () => sub.rec.messages.at(-1)?.offset === end);
    const seen = sub.rec.messages.map((m) => m.offset).filter((o) => o > start.offset);
    assert.deepEqual(seen, range(start.offset + 1, end));
  });

  it("rejects publishes at once while Redis is down, then restores subscriptions and resyncs on an empty Redis", async () => {
    const { broker, rec } = await open(redis.url);
    await broker.subscribe("outage");
    await broker.publish("outage", "1");
    await until("first message", () => rec.messages.length === 1);
    await redis.kill();
    await until("unhealthy", () => rec.health.at(-1) === false, 5000);
    assert.equal(broker.healthy(), false);
    const started = Date.now();
    await assert.rejects(broker.publish("outage", "lost?"), BrokerUnavailableError);
    assert.ok(Date.now() - started < 500, "no offline queue: the publish fails at once");
    await assert.rejects(broker.history("outage", 0), BrokerUnavailableError);
    await redis.restart();
    await until("healthy again", () => rec.health.at(-1) === true, 15_000);
    assert.equal(await numsub("outage"), 1);
    await until("resync", () => rec.resyncs.length === 1);
    assert.equal(rec.resyncs[0]?.position.offset, 0);
    const next = await broker.publish("outage", "after");
    assert.equal(next.offset, 1);
    await until("message after restart", () => rec.messages.length === 2);
    assert.deepEqual(rec.timeline("outage"), [1, "resync@0", 1]);
  });

  it("fills a subscriber's hole from history after its connection drops", async () => {
    const publisher = await open(redis.url);
    const sub = await open(redis.url);
    await sub.broker.subscribe("hole");
    await Promise.all(range(1, 5).map(() => publisher.broker.publish("hole", "{}")));
    await until("5", () => sub.rec.messages.length === 5);
    await admin.client("KILL", "TYPE", "pubsub");
    // Published while the subscriber is reconnecting (its first retry waits 100 ms).
    await Promise.all(range(6, 30).map(() => publisher.broker.publish("hole", "{}")));
    await until("healthy", () => sub.broker.healthy());
    await Promise.all(range(31, 40).map(() => publisher.broker.publish("hole", "{}")));
    await until("40", () => sub.rec.messages.length >= 40);
    await sleep(50);
    assert.deepEqual(sub.rec.timeline("hole"), range(1, 40));
    assert.equal(sub.rec.resyncs.length, 0);
  });

  it("resyncs when the hole is larger than history", async () => {
    const publisher = await open(redis.url, { historySize: 5 });
    const sub = await open(redis.url, { historySize: 5 });
    await sub.broker.subscribe("deep-hole");
    await publisher.broker.publish("deep-hole", "{}");
    await until("1", () => sub.rec.messages.length === 1);
    await admin.client("KILL", "TYPE", "pubsub");
    await Promise.all(range(2, 30).map(() => publisher.broker.publish("deep-hole", "{}")));
    await until("resync", () => sub.rec.resyncs.length === 1);
    await publisher.broker.publish("deep-hole", "{}");
    await until("31", () => sub.rec.messages.at(-1)?.offset === 31);
    assert.deepEqual(sub.rec.timeline("deep-hole"), [1, "resync@30", 31]);
  });

  it("goes unhealthy when the canary stops coming back (Redis frozen), and recovers", async () => {
    const { broker, rec, registry } = await open(redis.url, { canaryTimeoutMs: 800 });
    assert.equal(broker.healthy(), true);
    redis.freeze();
    try {
      await until("unhealthy", () => rec.health.at(-1) === false, 5000);
      await assert.rejects(broker.publish("frozen", "{}"), BrokerUnavailableError);
    } finally {
      redis.thaw();
    }
    await until("healthy", () => rec.health.at(-1) === true, 10_000);
    const metrics = await registry.getMetricsAsJSON();
    const rtt = metrics.find((m) => m.name === "rtgw_broker_round_trip_seconds");
    assert.ok(rtt, "round-trip histogram registered");
    const count = (rtt.values as Array<{ metricName?: string; value: number }>).find((v) =>
      v.metricName?.endsWith("_count"),
    );
    assert.ok((count?.value ?? 0) > 0, "round trips observed");
  });

  it("shares presence across nodes, announces join/leave to subscribed nodes, and expires a crashed node's members", async () => {
    const a = await open(redis.url, { presenceTtlSeconds: 1 });
    const b = await open(redis.url, { presenceTtlSeconds: 1 });
    await b.broker.subscribe("room");
    const alice = { connectionId: "c-a", sub: "alice", node: a.nodeId };
    const bob = { connectionId: "c-b", sub: "bob", node: b.nodeId };
    await a.broker.presenceJoin("room", alice);
    await b.broker.presenceJoin("room", bob);
    const list = await b.broker.presenceList("room");
    assert.deepEqual(list.map((m) => m.sub).sort(), ["alice", "bob"]);
    await until("join events", () => b.rec.presence.length === 2);
    assert.deepEqual(b.rec.presence[0], { channel: "room", kind: "join", member: alice });
    await b.broker.presenceLeave("room", bob);
    await until("leave event", () => b.rec.presence.length === 3);
    assert.equal(b.rec.presence[2]?.kind, "leave");
    // Members outlive the TTL while their node refreshes them...
    await sleep(1500);
    assert.deepEqual(
      (await b.broker.presenceList("room")).map((m) => m.sub),
      ["alice"],
    );
    // ...and expire once it stops (a crash: no leave is ever sent).
    await a.broker.close();
    await until("alice expired", async () => (await b.broker.presenceList("room")).length === 0, 5000);
    assert.equal(a.rec.presence.length, 0, "a node not subscribed to the channel gets no presence events");
  });
  it("publishes no join/leave on Redis for a joinLeave:false channel; the presence list still works", async () => {
    const joinLeaveOf = (channel: string) => !channel.startsWith("quiet:");
    const a = await open(redis.url, { joinLeaveOf });
    // A raw subscriber on both channels' pub/sub keys sees every payload Redis carries for them.
    const raw = redis.client();
    const heard: Array<[string, string]> = [];
    raw.on("message", (key: string, payload: string) => heard.push([key, payload]));
    await raw.subscribe(pubsubChannel("quiet:room"), pubsubChannel("loud:room"));
    try {
      for (const channel of ["quiet:room", "loud:room"]) {
        const member = { connectionId: `c-${channel}`, sub: "carol", node: a.nodeId };
        await a.broker.presenceJoin(channel, member);
        assert.deepEqual(
          (await a.broker.presenceList(channel)).map((m) => m.sub),
          ["carol"],
          `${channel}: listed`,
        );
        await a.broker.presenceLeave(channel, member);
        assert.deepEqual(await a.broker.presenceList(channel), [], `${channel}: gone from the list`);
      }
      const presenceOn = (key: string) => heard.filter(([k, p]) => k === key && /^p[jl]\|/.test(p));
      await until(
        "the default channel's join and leave",
        () => presenceOn(pubsubChannel("loud:room")).length === 2,
      );
      // A message published after them arrives after them too: nothing for the quiet channel is still on its way.
      await a.broker.publish("quiet:room", '"after"');
      await until("the quiet channel's message", () =>
        heard.some(([k]) => k === pubsubChannel("quiet:room")),
      );
      assert.deepEqual(
        heard.filter(([k]) => k === pubsubChannel("quiet:room")).map(([, p]) => p[0]),
        ["m"],
        "the message only: no join/leave (nor an empty payload) published",
      );
      assert.deepEqual(
        presenceOn(pubsubChannel("loud:room")).map(([, p]) => p.slice(0, 2)),
        ["pj", "pl"],
      );
    } finally {
      raw.disconnect();
    }
  });

  it("reconnects connections that stay open but stop delivering (half-open), then fills the hole", async () => {
    const proxy = await stallingProxy(redis.port);
    try {
      const publisher = await open(redis.url);
      const sub = await open(proxy.url, { canaryTimeoutMs: 800 });
      await sub.broker.subscribe("half-open");
      await publisher.broker.publish("half-open", "{}");
      await until("1", () => sub.rec.messages.length === 1);
      proxy.stall();
      for (const _ of range(2, 10)) await publisher.broker.publish("half-open", "{}");
      await until("unhealthy", () => sub.rec.health.at(-1) === false, 5000);
      await until("healthy again on fresh connections", () => sub.rec.health.at(-1) === true, 10_000);
      await until("10", () => sub.rec.messages.length >= 10);
      assert.deepEqual(sub.rec.timeline("half-open"), range(1, 10));
    } finally {
      proxy.close();
    }
  });
});

/** A TCP pass-through to Redis whose stall() freezes the connections open at that moment (new ones work). */
async function stallingProxy(target: number): Promise<{ url: string; stall(): void; close(): void }> {
  const pairs: Array<[Socket, Socket]> = [];
  const server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: target });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
    pairs.push([client, upstream]);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${port}`,
    stall() {
      for (const [client, upstream] of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close() {
      server.close();
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
  };
}
