// The Redis broker in cluster mode against a real three-master Redis Cluster: sharded pub/sub (SSUBSCRIBE on the
// master owning the channel's slot), the publish script per slot, history, presence, and the slot function.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { CloseCode } from "../../../protocol/index.js";
import { type RedisClusterServer, startRedisCluster } from "../../../test-support/redis.js";
import type { Broker } from "../../src/broker/broker.js";
import { channelKeys, pubsubChannel } from "../../src/broker/redis/keys.js";
import { keySlot } from "../../src/broker/redis/slot.js";
import { connect } from "../client.js";
import { callApi, closedWithin, JWT_ENV, userToken } from "../server-api-support.js";
import { range, startBroker, until } from "./broker-support.js";
import { API_KEY, httpPublish, startGateways, tally } from "./fleet.js";

describe("redis broker on a Redis Cluster (sharded pub/sub)", { timeout: 120_000 }, () => {
  let cluster: RedisClusterServer;
  let nodes: Redis[];
  const brokers: Broker[] = [];
  const open = async () => {
    const started = await startBroker(cluster.url, { cluster: true });
    brokers.push(started.broker);
    return started;
  };
  /** SHARDNUMSUB summed over the masters (only the slot's owner can have subscribers). */
  const shardNumsub = async (channel: string) => {
    let total = 0;
    for (const node of nodes) {
      const reply = (await node.call("PUBSUB", "SHARDNUMSUB", pubsubChannel(channel))) as [string, number];
      total += Number(reply[1]);
    }
    return total;
  };

  before(async () => {
    cluster = await startRedisCluster();
    nodes = cluster.ports.map((p) => cluster.nodeClient(p));
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await cluster?.stop();
  });

  it("computes the same slots as the cluster", async () => {
    const keys = [
      "foo",
      "123456789",
      "rtgw:{chat:42}:o",
      "rtgw:{a/b=c@d}",
      "{}x",
      "foo{}{bar}",
      "x{y}",
      "é{",
    ];
    for (const key of keys)
      assert.equal(keySlot(key), Number(await nodes[0]?.call("CLUSTER", "KEYSLOT", key)), key);
  });

  it("fans out across shards with per-channel offsets, SSUBSCRIBEs once per channel and leaves none behind", async () => {
    const a = await open();
    const b = await open();
    assert.equal(a.broker.healthy(), true);
    // Channels spread over all three masters.
    const owners = new Set<string>();
    const channels: string[] = [];
    const slots = (await nodes[0]?.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number]]>;
    const ownerOf = (slot: number) => slots.find(([lo, hi]) => slot >= lo && slot <= hi)?.[2][1];
    for (let i = 0; channels.length < 6 || owners.size < 3; i++) {
      const channel = `room:${i}`;
      channels.push(channel);
      owners.add(String(ownerOf(keySlot(pubsubChannel(channel)))));
    }
    await Promise.all(channels.map((c) => b.broker.subscribe(c)));
    await b.broker.subscribe(channels[0] as string);
    for (const c of channels) assert.equal(await shardNumsub(c), 1, c);

    for (const round of range(1, 20)) {
      await Promise.all(channels.map((c) => a.broker.publish(c, JSON.stringify({ round }))));
    }
    await until("all messages", () => b.rec.messages.length === channels.length * 20);
    for (const c of channels) {
      assert.deepEqual(b.rec.timeline(c), range(1, 20), c);
    }
    const history = await a.broker.history(channels[1] as string, 15);
    assert.deepEqual(
      history.messages.map((m) => m.offset),
      range(16, 20),
    );
    assert.equal(history.complete, true);

    await b.broker.unsubscribe(channels[0] as string);
    assert.equal(await shardNumsub(channels[0] as string), 1, "still one local subscriber");
    await Promise.all(channels.map((c) => b.broker.unsubscribe(c)));
    for (const c of channels) await until(`${c} unsubscribed`, async () => (await shardNumsub(c)) === 0);
  });

  it("keeps presence per channel slot across nodes", async () => {
    const a = await open();
    const b = await open();
    await b.broker.subscribe("lobby");
    await a.broker.presenceJoin("lobby", { connectionId: "c1", sub: "carol", node: a.nodeId });
    assert.deepEqual(
      (await b.broker.presenceList("lobby")).map((m) => m.sub),
      ["carol"],
    );
    await until("join event", () => b.rec.presence.length === 1);
  });
  it("survives a master restarted empty: its channels resync, the others flow on", async () => {
    const a = await open();
    const b = await open();
    const slots = (await nodes[0]?.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number]]>;
    const ownerOf = (channel: string) => {
      const slot = keySlot(pubsubChannel(channel));
      return slots.find(([lo, hi]) => slot >= lo && slot <= hi)?.[2][1] as number;
    };
    const victim = ownerOf("restart:0");
    let other = "restart:1";
    for (let i = 1; ownerOf(other) === victim; i++) other = `restart:${i}`;
    await b.broker.subscribe("restart:0");
    await b.broker.subscribe(other);
    for (const c of ["restart:0", other]) await a.broker.publish(c, "before");
    await until("before", () => b.rec.messages.length === 2);

    await cluster.killNode(victim);
    await until("subscriber unhealthy", () => b.rec.health.at(-1) === false, 10_000);
    await assert.rejects(a.broker.publish("restart:0", "lost?"));
    await cluster.restartNode(victim);
    await until("healthy again", () => b.broker.healthy() && a.broker.healthy(), 20_000);
    await until("resync of the restarted master's channel", () => b.rec.resyncs.length >= 1, 10_000);
    assert.deepEqual(
      b.rec.resyncs.map((r) => [r.channel, r.position.offset]),
      [["restart:0", 0]],
    );
    await until(
      "publish works again",
      async () => (await a.broker.publish("restart:0", "after").catch(() => undefined)) !== undefined,
      10_000,
    );
    await a.broker.publish(other, "after");
    await until("after", () => b.rec.timeline("restart:0").includes(1) && b.rec.timeline(other).length === 2);
    assert.deepEqual(b.rec.timeline("restart:0"), [1, "resync@0", 1]);
    assert.deepEqual(b.rec.timeline(other), [1, 2]);
  });

  it("follows a channel whose slot migrates to another master, filling the hole from the moved history", async () => {
    const a = await open();
    const started = await startBroker(cluster.url, { cluster: true, clusterRefreshMs: 300 });
    brokers.push(started.broker);
    const b = started;
    const channel = "moving";
    const slot = keySlot(pubsubChannel(channel));
    const slots = (await nodes[0]?.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number]]>;
    const fromPort = slots.find(([lo, hi]) => slot >= lo && slot <= hi)?.[2][1] as number;
    const toPort = cluster.ports.find((p) => p !== fromPort) as number;
    const from = cluster.nodeClient(fromPort);
    const to = cluster.nodeClient(toPort);
    await b.broker.subscribe(channel);
    for (const _ of range(1, 3)) await a.broker.publish(channel, "{}");
    await until("3", () => b.rec.messages.length === 3);

    const fromId = (await from.call("CLUSTER", "MYID")) as string;
    const toId = (await to.call("CLUSTER", "MYID")) as string;
    await to.call("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId);
    await from.call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
    const keys = (await from.call("CLUSTER", "GETKEYSINSLOT", slot, 1000)) as string[];
    assert.ok(keys.length >= 3, "offset, epoch and history move with the slot");
    await from.call("MIGRATE", "127.0.0.1", toPort, "", 0, 5000, "KEYS", ...keys);
    for (const node of nodes) await node.call("CLUSTER", "SETSLOT", slot, "NODE", toId);

    await until(
      "publish lands on the new owner",
      async () => (await a.broker.publish(channel, "{}").catch(() => undefined)) !== undefined,
      10_000,
    );
    for (const _ of range(1, 2)) await a.broker.publish(channel, "{}");
    await until("6", () => b.rec.messages.length >= 6, 10_000);
    assert.deepEqual(b.rec.timeline(channel), range(1, 6));
    const onTarget = (await to.call("PUBSUB", "SHARDNUMSUB", pubsubChannel(channel))) as [string, number];
    assert.equal(Number(onTarget[1]), 1, "subscribed on the new owner");
  });

  it("gives a channel whose keys another server term wrote (a promoted replica's copy) a new epoch", async () => {
    const a = await open();
    const b = await open();
    const channel = "stamped";
    await b.broker.subscribe(channel);
    const first = await a.broker.publish(channel, "1");
    await a.broker.publish(channel, "2");
    await until("2", () => b.rec.messages.length === 2);
    // What a replica promoted after losing writes holds: the same epoch, written by its old master's id.
    const slots = (await nodes[0]?.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number]]>;
    const slot = keySlot(pubsubChannel(channel));
    const owner = cluster.nodeClient(slots.find(([lo, hi]) => slot >= lo && slot <= hi)?.[2][1] as number);
    const epochKey = channelKeys(channel).epoch;
    assert.match(
      first.epoch,
      /^[0-9a-f]{16}-[0-9a-f]{16}[0-9a-z]+$/,
      "epochs are `<server stamp>-<process prefix><count>`",
    );
    assert.equal(await owner.get(epochKey), first.epoch);
    await owner.set(epochKey, `${"0".repeat(16)}${first.epoch.slice(16)}`, "KEEPTTL");
    await owner.set(channelKeys(channel).offset, "1");

    const next = await a.broker.publish(channel, "3");
    assert.notEqual(next.epoch, first.epoch);
    assert.notEqual(next.epoch, `${"0".repeat(16)}${first.epoch.slice(16)}`);
    assert.equal(next.offset, 1);
    await until("3", () => b.rec.messages.length === 3);
    assert.deepEqual(b.rec.timeline(channel), [1, 2, "resync@0", 1]);
    assert.equal((await b.broker.history(channel, 2, first.epoch)).complete, false);
  });

  it("proves every master's subscriber connection with its own canary", async () => {
    const { broker, rec, nodeId } = await startBroker(cluster.url, { cluster: true, canaryTimeoutMs: 800 });
    brokers.push(broker);
    for (const node of nodes) {
      const channels = (await node.call("PUBSUB", "SHARDCHANNELS", `rtgw:canary:{${nodeId}:*`)) as string[];
      assert.equal(channels.length, 1, "one canary channel on each master");
    }
    // A frozen master holds its connections open: only its canary can tell.
    const port = cluster.ports[2] as number;
    cluster.freezeNode(port);
    try {
      await until("unhealthy", () => rec.health.at(-1) === false, 5000);
    } finally {
      cluster.thawNode(port);
    }
    await until("healthy again", () => rec.health.at(-1) === true, 15_000);
  });

  it("gateway processes with RTGW_REDIS_CLUSTER=true fan out across pods", async () => {
    const gws = await startGateways(cluster.url, 2, { RTGW_REDIS_CLUSTER: "true" });
    const subs = gws.map((g) => tally(g.wsUrl, "cluster:fanout"));
    try {
      // The ack, not SSUBSCRIBE, marks where a subscriber's stream starts: a message published between the
      // two is before its start.
      await Promise.all(subs.map((s) => s.ready));
      assert.equal(await shardNumsub("cluster:fanout"), 2, "SSUBSCRIBEd on the owner");
      for (const n of range(1, 10)) {
        const r = await httpPublish((gws[n % 2] as (typeof gws)[number]).url, "cluster:fanout", { n });
        assert.equal(r.offset, n);
      }
      await until("delivered", () => subs.every((s) => s.received.length === 10)).catch((error: unknown) => {
        // Which gateway fell short, and what it logged: a bare timeout tells nothing in CI.
        for (const [i, s] of subs.entries()) console.error(`gateway ${i}: ${s.received.length} received`);
        for (const [i, g] of gws.entries()) console.error(`gateway ${i} log:\n${g.logs()}`);
        throw error;
      });
      for (const s of subs)
        assert.deepEqual(
          s.received.map((r) => r.n),
          range(1, 10),
        );
    } finally {
      for (const s of subs) s.client.close();
      await Promise.all(gws.map((g) => g.stop(2000)));
    }
  });

  it("server API on a cluster: a disconnect through one pod reaches the other; info lists both", async () => {
    const gws = await startGateways(cluster.url, 2, { RTGW_REDIS_CLUSTER: "true", ...JWT_ENV });
    const [g0, g1] = gws as [(typeof gws)[number], (typeof gws)[number]];
    const alice = await connect(`${g1.wsUrl}?token=${await userToken("alice")}`);
    try {
      await until("info lists both pods", async () => {
        const info = await callApi(g0.url, "info", {}, API_KEY);
        return (info.body.nodes as unknown[]).length === 2;
      });
      // Every listener on the first seed hears it: these two pods, and this file's in-process brokers still open.
      const listening = (await nodes[0]?.call("PUBSUB", "NUMSUB", "rtgw:control")) as [string, number];
      assert.ok(listening[1] >= 2, `control subscribers on the first seed: ${listening[1]}`);
      const answer = await callApi(g0.url, "disconnect", { user: "alice" }, API_KEY);
      assert.deepEqual(answer, { status: 200, body: { nodes: listening[1] } });
      assert.equal((await closedWithin(alice.closed)).code, CloseCode.Disconnected);
    } finally {
      alice.close();
      await Promise.all(gws.map((g) => g.stop(2000)));
    }
  });
});
