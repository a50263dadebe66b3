// Drain under flow on Redis: a gateway holding 2,000 subscribed clients gets SIGTERM while a publisher on another
// gateway sends continuously. The clients move (through a Service-like proxy) to the other gateways, spread over
// the drain window, and every one of them gets every message exactly once, in order.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { GatewayProcess } from "../../../test-support/gateway.js";
import { type RedisServer, startRedis } from "../../../test-support/redis.js";
import {
  httpPublish,
  readyRoundRobin,
  type Service,
  sleep,
  startGateways,
  startService,
  type Tally,
  tally,
  until,
} from "./fleet.js";

const CLIENTS = Number(process.env.RTGW_TEST_DRAIN_CLIENTS ?? 2000);
const DRAIN_SECONDS = 4;

describe("drain under flow on Redis", { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let gws: GatewayProcess[];
  let service: Service | undefined;
  let rotation: ReturnType<typeof readyRoundRobin> | undefined;
  const subs: Tally[] = [];

  before(async () => {
    redis = await startRedis();
    gws = await startGateways(redis.url, 3, { RTGW_DRAIN_SECONDS: String(DRAIN_SECONDS) });
  });
  after(async () => {
    for (const s of subs) s.client.close();
    rotation?.stop();
    await service?.close();
    await Promise.all((gws ?? []).map((g) => g.stop(2000)));
    await redis?.stop();
  });

  it(`${CLIENTS} clients leave a draining gateway with zero lost and zero duplicated`, async () => {
    const [g0, g1, g2] = gws as [GatewayProcess, GatewayProcess, GatewayProcess];
    service = await startService(() => g0);
    for (let i = 0; i < CLIENTS; i += 250) {
      const batch = Array.from({ length: Math.min(250, CLIENTS - i) }, () =>
        tally(service?.url as string, "drain", { backoff: { baseMs: 200, maxMs: 2000 } }),
      );
      subs.push(...batch);
      await Promise.all(batch.map((s) => s.ready));
    }
    rotation = readyRoundRobin([g1, g2]);
    service.route(rotation.pick);

    let stop = false;
    let acked = 0;
    const flow = (async () => {
      for (let n = 1; !stop && n <= 2000; n++) {
        const r = await httpPublish(g1.url, "drain", { n });
        assert.equal(r.status, 200);
        acked = r.offset as number;
        await sleep(100);
      }
    })();
    await until("flowing", () => acked >= 10);
    const drainAt = Date.now();
    g0.kill("SIGTERM");
    const code = await g0.exited;
    const drainedMs = Date.now() - drainAt;
    // Keep publishing until every client has moved, so recovery happens under flow.
    await until("every client reconnected", () => subs.every((s) => s.connects.length >= 2), 60_000);
    await sleep(300);
    stop = true;
    await flow;
    const last = acked;
    await until(
      "every client has every message",
      () => subs.every((s) => (s.received.at(-1)?.offset ?? 0) >= last),
      60_000,
    );
    assert.equal(code, 0, "the drained gateway exits 0");

    let lost = 0;
    let duplicated = 0;
    let disordered = 0;
    const reconnectAt: number[] = [];
    for (const s of subs) {
      const offsets = new Set(s.received.map((r) => r.offset));
      for (let o = 1; o <= last; o++) if (!offsets.has(o)) lost++;
      duplicated += s.duplicates();
      disordered += s.outOfOrder();
      const second = s.connects[1];
      if (second !== undefined) reconnectAt.push(second - drainAt);
    }
    reconnectAt.sort((a, b) => a - b);
    const q = (p: number) =>
      reconnectAt[Math.min(reconnectAt.length - 1, Math.floor(p * reconnectAt.length))] ?? 0;
    console.log(
      `# drain: ${CLIENTS} clients, ${last} messages, exit after ${drainedMs} ms; reconnects p10 ${q(0.1)} ms, ` +
        `p50 ${q(0.5)} ms, p90 ${q(0.9)} ms; lost ${lost}, duplicated ${duplicated}, out of order ${disordered}`,
    );
    assert.equal(reconnectAt.length, CLIENTS, "every client reconnected");
    assert.equal(lost, 0);
    assert.equal(duplicated, 0);
    assert.equal(disordered, 0);
    assert.ok(
      q(0.9) - q(0.1) >= DRAIN_SECONDS * 1000 * 0.4,
      `reconnects spread over the drain window (p10 ${q(0.1)} ms, p90 ${q(0.9)} ms)`,
    );
    assert.ok(
      subs.every((s) => s.resyncs.length === 0),
      "no client needed a resync",
    );
  });
});
