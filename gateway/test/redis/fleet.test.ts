// Several gateway processes on one Redis (RTGW_BROKER=redis): cross-pod fan-out, HTTP and client publish,
// per-channel subscriptions in Redis going to zero, recovery after a gateway is SIGKILLed mid-flow, and a Redis
// outage (readiness 503, publishes refused, every subscriber either complete or told to resync).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { WebSocket } from "ws";
import { type Client, connect } from "../../../client/src/index.js";
import type { GatewayProcess } from "../../../test-support/gateway.js";
import { type RedisServer, startRedis } from "../../../test-support/redis.js";
import { pubsubChannel } from "../../src/broker/redis/keys.js";
import { range } from "./broker-support.js";
import {
  httpPublish,
  readyStatus,
  type Service,
  sleep,
  startGateways,
  startService,
  type Tally,
  tally,
  until,
} from "./fleet.js";

describe("three gateways on one Redis", { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let admin: Redis;
  let gws: GatewayProcess[];
  const clients: Client[] = [];
  const services: Service[] = [];
  const numsub = async (channel: string) =>
    Number(((await admin.pubsub("NUMSUB", pubsubChannel(channel))) as [string, number])[1]);
  const track = (t: Tally) => {
    clients.push(t.client);
    return t;
  };

  before(async () => {
    redis = await startRedis();
    admin = redis.client();
    gws = await startGateways(redis.url, 3);
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of services) await s.close();
    await Promise.all((gws ?? []).map((g) => g.stop(2000)));
    await redis?.stop();
  });

  it("fans out across pods (HTTP and client publish) and leaves no subscription behind in Redis", async () => {
    const [g0, g1, g2] = gws as [GatewayProcess, GatewayProcess, GatewayProcess];
    const subs = [g0, g1, g2, g0].map((g) => track(tally(g.wsUrl, "fanout")));
    await Promise.all(subs.map((s) => s.ready));
    assert.equal(await numsub("fanout"), 3, "one Redis subscription per gateway");

    const publisher = connect(g1.wsUrl, { WebSocket });
    clients.push(publisher);
    const offsets: number[] = [];
    for (const n of range(1, 30)) {
      if (n % 2) offsets.push((await httpPublish(g2.url, "fanout", { n })).offset as number);
      else offsets.push((await publisher.publish("fanout", { n })).offset);
    }
    assert.deepEqual(offsets, range(1, 30));
    await until("every subscriber has all 30", () => subs.every((s) => s.received.length === 30));
    for (const s of subs) {
      assert.deepEqual(
        s.received.map((r) => r.n),
        range(1, 30),
      );
    }
    for (const s of subs) s.client.close();
    publisher.close();
    await until("NUMSUB 0", async () => (await numsub("fanout")) === 0);
  });

  it("a client whose gateway is SIGKILLed mid-flow resumes on another one: every message once, in order", async () => {
    const [g0, g1, g2] = gws as [GatewayProcess, GatewayProcess, GatewayProcess];
    const service = await startService(() => g0);
    services.push(service);
    const sub = track(tally(service.url, "failover", { backoff: { baseMs: 50, maxMs: 200 } }));
    await sub.ready;
    assert.equal(sub.client.node, `gw-0-${process.pid}`);

    let stop = false;
    let acked = 0;
    const flow = (async () => {
      for (let n = 1; !stop && n <= 3000; n++) {
        const r = await httpPublish(g2.url, "failover", { n });
        if (r.status === 200) acked = r.offset as number;
        await sleep(2);
      }
    })();
    await until("flowing", () => sub.received.length >= 50);
    const killedAt = Date.now();
    const beforeKill = sub.received.length;
    service.route(() => g1);
    g0.kill("SIGKILL");
    await until("reconnected", () => sub.connects.length >= 2);
    await until("caught up after the kill", () => sub.received.length > beforeKill + 20);
    const firstAfter = Date.now();
    stop = true;
    await flow;
    await until("everything", () => sub.received.at(-1)?.offset === acked, 20_000);
    const resumedMs = (sub.connects[1] ?? 0) - killedAt;
    console.log(
      `# failover: reconnected ${resumedMs} ms after SIGKILL, flowing again after ${firstAfter - killedAt} ms`,
    );
    assert.deepEqual(
      sub.received.map((r) => r.offset),
      range(1, acked),
    );
    assert.equal(sub.resyncs.length, 0);
    assert.equal(sub.client.node, `gw-1-${process.pid}`, "resumed on another gateway");
    gws[0] = g1; // g0 is gone; keep the list to live processes for later tests
  });

  it("Redis killed and restarted: readiness 503 then 200, publishes refused meanwhile, no silent loss", async () => {
    const alive = [gws[1], gws[2]] as GatewayProcess[];
    const subs = alive.flatMap((g) => [track(tally(g.wsUrl, "outage")), track(tally(g.wsUrl, "outage"))]);
    await Promise.all(subs.map((s) => s.ready));
    const publisher = alive[0] as GatewayProcess;
    const acked: Array<{ offset: number; epoch: string; n: number }> = [];
    let refused = 0;
    let n = 0;
    const publishSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        n++;
        const r = await httpPublish(publisher.url, "outage", { n }).catch(() => ({ status: 0 }) as const);
        if (r.status === 200 && "offset" in r)
          acked.push({ offset: r.offset as number, epoch: r.epoch as string, n });
        else refused++;
      }
    };
    await publishSome(20);
    await until("first 20 delivered", () => subs.every((s) => s.received.length === 20));

    const killedAt = Date.now();
    await redis.kill();
    await until("every gateway unready", async () => {
      const statuses = await Promise.all(alive.map(readyStatus));
      return statuses.every((s) => s === 503);
    });
    const unreadyMs = Date.now() - killedAt;
    await publishSome(5);
    assert.equal(refused, 5, "publishes during the outage are refused, not dropped");
    assert.ok(
      subs.every((s) => s.client.state === "connected"),
      "local connections stay up",
    );

    await redis.restart();
    const restartedAt = Date.now();
    await until("every gateway ready again", async () => {
      const statuses = await Promise.all(alive.map(readyStatus));
      return statuses.every((s) => s === 200);
    });
    const readyMs = Date.now() - restartedAt;
    await publishSome(20);
    const after = acked.filter((a) => a.epoch !== acked[0]?.epoch);
    assert.equal(after.length, 20);
    await until("post-restart messages delivered", () =>
      subs.every((s) => after.every((a) => s.received.some((r) => r.n === a.n))),
    );
    console.log(
      `# redis outage: readiness 503 within ${unreadyMs} ms of the kill, 200 ${readyMs} ms after restart`,
    );
    for (const s of subs) {
      const got = new Set(s.received.map((r) => r.n));
      const missing = acked.filter((a) => !got.has(a.n));
      // Redis came back empty: history is gone, so every subscriber must have been told (resync), and must
      // still have every acknowledged message (none was lost in flight here).
      assert.ok(s.resyncs.length >= 1, "subscriber told recovered:false / resync");
      assert.deepEqual(missing, []);
      assert.equal(s.duplicates(), 0);
    }
  });
});
