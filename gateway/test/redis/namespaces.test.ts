// Channel namespaces' history on the Redis broker: two gateway processes sharing one Redis and one RTGW_CONFIG. Each
// namespace's size caps the stream (a resume past it is not recovered), its TTL is the keys', size 0 keeps no
// stream while offsets advance, and a subscriber's hole in a namespace without enough history is a resync.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServerFrame } from "../../../protocol/index.js";
import type { GatewayProcess } from "../../../test-support/gateway.js";
import { channelKeys } from "../../src/broker/redis/keys.js";
import { NAMESPACES_YAML, type TempConfig, writeConfig } from "../namespaces-support.js";
import { apiFleet, until } from "./fleet.js";

function acked(frame: ServerFrame): Extract<ServerFrame, { type: "ack" }> {
  if (frame.type !== "ack") assert.fail(`expected an ack, got ${JSON.stringify(frame)}`);
  return frame;
}

describe("channel namespaces' history on Redis (two gateways)", { timeout: 180_000 }, () => {
  let config: TempConfig;
  // Written before the gateways start: before hooks run in the order they are registered.
  before(() => {
    config = writeConfig(NAMESPACES_YAML);
  });
  const fleet = apiFleet(2, () => ({ RTGW_CONFIG: config.path }));
  after(() => config?.remove());
  const { api, user } = fleet;

  it("caps a namespace's stream at its size: publish 10 with historySize 3, a resume from 0 is not recovered", async () => {
    const [g0, g1] = fleet.gws as [GatewayProcess, GatewayProcess];
    const admin = fleet.redis.client();
    const epochs: Record<string, string> = {};
    for (const channel of ["small:1", "chat:1"])
      for (let i = 1; i <= 10; i++)
        epochs[channel] = String((await api(g0, "publish", { channel, data: i })).body.epoch);
    const epoch = epochs["small:1"];
    assert.equal(await admin.xlen(channelKeys("small:1").history), 3);
    assert.equal(await admin.xlen(channelKeys("chat:1").history), 10, "RTGW_HISTORY_SIZE (10000) elsewhere");

    const c = await user(g1, "resumer");
    const lost = acked(await c.request({ type: "subscribe", channel: "small:1", since: 0, epoch }));
    assert.deepEqual([lost.recovered, lost.offset], [false, 10]);
    const kept = acked(
      await c.request({ type: "subscribe", channel: "chat:1", since: 0, epoch: epochs["chat:1"] }),
    );
    assert.equal(kept.recovered, true);
    const near = await user(g1, "near");
    assert.equal(
      acked(await near.request({ type: "subscribe", channel: "small:1", since: 7, epoch })).recovered,
      true,
    );
    for (const offset of [8, 9, 10])
      await near.next((f) => f.type === "message" && f.channel === "small:1" && f.offset === offset);
    const history = await api(g1, "history", { channel: "small:1" });
    assert.deepEqual(
      (history.body.messages as Array<{ offset: number }>).map((m) => m.offset),
      [8, 9, 10],
    );
  });

  it("gives a namespace's keys its TTL, and keeps no stream with historySize 0 while offsets advance", async () => {
    const [g0, g1] = fleet.gws as [GatewayProcess, GatewayProcess];
    const admin = fleet.redis.client();
    for (const channel of ["brief:1", "chat:ttl", "bare:1", "bare:1", "bare:1"])
      assert.equal((await api(g0, "publish", { channel, data: 1 })).status, 200);
    const ttl = await admin.ttl(channelKeys("brief:1").history);
    assert.ok(ttl > 0 && ttl <= 7, `brief's stream TTL ${ttl}`);
    assert.ok((await admin.ttl(channelKeys("brief:1").offset)) <= 7);
    assert.ok((await admin.ttl(channelKeys("chat:ttl").history)) > 7, "RTGW_HISTORY_TTL_SECONDS elsewhere");

    assert.equal(await admin.exists(channelKeys("bare:1").history), 0);
    const bare = await api(g1, "history", { channel: "bare:1" });
    assert.equal(bare.status, 200);
    assert.deepEqual([bare.body.messages, bare.body.offset], [[], 3]);
  });

  it("a subscriber's hole in a namespace without (enough) history becomes a resync, not a silent skip", async () => {
    const [g0, g1] = fleet.gws as [GatewayProcess, GatewayProcess];
    const c = await user(g1, "holes");
    const channels = ["bare:h", "small:h", "chat:h"];
    for (const channel of channels) acked(await c.request({ type: "subscribe", channel }));
    assert.equal((await api(g0, "broadcast", { channels, data: 0 })).status, 200);
    for (const channel of channels) await c.next((f) => f.type === "message" && f.channel === channel);
    const admin = fleet.redis.client();
    await admin.client("KILL", "TYPE", "pubsub");
    // Published while g1's subscriber connection reconnects (its first retry waits 100 ms).
    for (let i = 0; i < 5; i++) await api(g0, "broadcast", { channels, data: i + 1 });
    await until("g1 ready again", async () => (await fetch(`${g1.url}/readyz`)).ok);
    for (const channel of ["bare:h", "small:h"])
      await c.next((f) => f.type === "resync" && f.channel === channel, 10_000);
    for (let offset = 2; offset <= 6; offset++)
      await c.next((f) => f.type === "message" && f.channel === "chat:h" && f.offset === offset, 10_000);
    assert.equal(c.frames.filter((f) => f.type === "resync" && f.channel === "chat:h").length, 0);
  });
});
