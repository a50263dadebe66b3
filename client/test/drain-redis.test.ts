// A real drain across two gateways on one Redis, behind one address (a loopback balancer standing in for the
// Service): clients on the draining gateway get `reconnect`, are closed with 1012, wait the afterMs they were
// told, land on the other gateway, resume with since/epoch, and see every message exactly once, in order.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { type GatewayProcess, startGateway } from "../../test-support/gateway.js";
import { type RedisServer, startRedis } from "../../test-support/redis.js";
import { type Client, connect, type ResyncEvent, RtgwError } from "../src/index.js";
import { type Balancer, httpPublish, recordedSubscriber, startBalancer, until } from "./helpers.js";

const API_KEY = "client-drain-key-0123456789";
const ADMIN_KEY = "client-drain-admin-key-0123456789";

describe("drain across gateways on Redis", { timeout: 90_000 }, () => {
  let redis: RedisServer;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let balancer: Balancer;
  const clients: Client[] = [];

  before(async () => {
    redis = await startRedis();
    const env = {
      RTGW_BROKER: "redis",
      RTGW_REDIS_URL: redis.url,
      RTGW_API_KEY: API_KEY,
      RTGW_ADMIN_KEY: ADMIN_KEY,
      RTGW_DRAIN_SECONDS: "2",
      RTGW_HISTORY_SIZE: "5000",
    };
    [a, b] = await Promise.all([
      startGateway({ env: { ...env, RTGW_NODE_ID: "gw-a" } }),
      startGateway({ env: { ...env, RTGW_NODE_ID: "gw-b" } }),
    ]);
    balancer = await startBalancer([a.port]);
  });
  after(async () => {
    for (const c of clients) c.close();
    await balancer?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it("no loss, no duplicate, reconnects wait afterMs and spread over the window", async (t) => {
    const channel = "feed:drain";
    const subscribers = Array.from({ length: 20 }, () =>
      recordedSubscriber((recording) => {
        const client = connect(balancer.wsUrl, {
          WebSocket: recording,
          backoff: { baseMs: 50, maxMs: 1_000 },
        });
        clients.push(client);
        return client;
      }, channel),
    );
    await Promise.all(subscribers.map((s) => s.ready));
    assert.ok(subscribers.every((s) => s.client.node === "gw-a"));

    // Gateway A starts draining; like a Service dropping an unready endpoint, the balancer now sends new
    // connections to B. Messages keep flowing through B's HTTP API the whole time.
    balancer.setBackends([b.port]);
    const back = () => subscribers.every((s) => s.client.node === "gw-b" && s.client.state === "connected");
    let published = 0;
    let afterBack = -1;
    const started = Date.now();
    const publisher = (async () => {
      while (published < 20_000 && (afterBack < 0 || published < afterBack + 100)) {
        await httpPublish(b.url, API_KEY, channel, { seq: published + 1 });
        published += 1;
        if (afterBack < 0 && back()) afterBack = published;
        if (published % 10 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await until("some flow", () => published >= 50);
    const drainAt = Date.now();
    const drain = await fetch(`${a.adminUrl}/admin/drain`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(drain.status, 200, await drain.text());
    await publisher;
    assert.ok(afterBack > 0, "every client moved to B while messages flowed");
    assert.equal(await a.exited, 0, "the drained gateway exits 0");
    const total = published;
    await Promise.all(subscribers.map((s) => until("every message", () => s.got.length >= total, 20_000)));
    await new Promise((r) => setTimeout(r, 100));

    const moves: number[] = [];
    for (const s of subscribers) {
      assert.deepEqual(
        s.got,
        Array.from({ length: total }, (_, i) => i + 1),
        "each offset exactly once, in order",
      );
      assert.deepEqual(s.resyncs, [], "history in Redis covered the move");
      assert.equal(s.notices.length, 1);
      const notice = s.notices[0]!;
      const closed = s.states.find((c) => c.state === "disconnected");
      const reconnected = s.states.find((c) => c.state === "connected" && c.previous === "reconnecting");
      assert.ok(closed && reconnected, JSON.stringify(s.states));
      assert.equal(closed.closeCode, 1012);
      assert.ok(
        reconnected.at - notice.at >= notice.afterMs - 2, // ms clock granularity
        `${reconnected.at - notice.at} < ${notice.afterMs}`,
      );
      const resume = s.log.sent.filter((f) => f.type === "subscribe")[1];
      assert.equal(typeof resume?.since, "number");
      assert.equal(typeof resume?.epoch, "string");
      moves.push(reconnected.at - drainAt);
    }
    moves.sort((x, y) => x - y);
    // Closes spread over the 2 s window plus up to afterMs: the moves must not arrive as one burst.
    assert.ok(moves.at(-1)! - moves[0]! > 500, `reconnects spread over only ${moves.at(-1)! - moves[0]!} ms`);
    t.diagnostic(
      `${total} messages in ${Date.now() - started} ms; 20 clients moved ${moves[0]}..${moves.at(-1)} ms after the drain began`,
    );
  });

  it("Redis lost and restarted empty: publishes fail with unavailable, then a resync event and the new epoch in order", async (t) => {
    balancer.setBackends([b.port]);
    const client = connect(balancer.wsUrl, { WebSocket, backoff: { baseMs: 50, maxMs: 500 } });
    clients.push(client);
    const got: Array<{ offset: number; epoch: string | undefined }> = [];
    const resyncs: ResyncEvent[] = [];
    client.on("resync", (e) => resyncs.push(e));
    const first = await client.subscribe("feed:outage", (_d, meta) =>
      got.push({ offset: meta.offset, epoch: meta.epoch }),
    ).ready;
    for (let i = 1; i <= 5; i++) await client.publish("feed:outage", { i });
    await until("five", () => got.length === 5);

    let unavailable = false;
    let ready = false;
    await redis.kill();
    await until(
      "a publish to fail with unavailable",
      () => {
        void client.publish("feed:outage", { during: "outage" }).then(
          () => {},
          (e: unknown) => {
            if (e instanceof RtgwError && e.code === "unavailable" && e.source === "server")
              unavailable = true;
          },
        );
        return unavailable;
      },
      15_000,
    );
    await redis.restart();
    await until(
      "the gateway ready again",
      () => {
        void fetch(`${b.url}/readyz`).then((r) => {
          ready = r.status === 200;
        });
        return ready;
      },
      20_000,
    );
    await until("the resync", () => resyncs.length > 0, 15_000);
    const offsets: number[] = [];
    for (let i = 1; i <= 5; i++) offsets.push((await client.publish("feed:outage", { after: i })).offset);
    await until("five more", () => got.length === 10, 10_000);

    assert.equal(client.state, "connected", "the outage did not cost the connection");
    assert.deepEqual(
      got.slice(0, 5).map((g) => g.offset),
      [1, 2, 3, 4, 5],
    );
    assert.ok(got.slice(0, 5).every((g) => g.epoch === first.epoch));
    const newEpoch = resyncs.at(-1)!.epoch;
    assert.notEqual(newEpoch, first.epoch, "Redis came back empty: a new epoch");
    assert.deepEqual(
      got.slice(5).map((g) => g.offset),
      offsets,
      "the new epoch's messages, once and in order",
    );
    assert.ok(got.slice(5).every((g) => g.epoch === newEpoch));
    t.diagnostic(`resync events: ${JSON.stringify(resyncs)}`);
  });
});
