// Drain and shed against a real gateway: readiness, reconnect frames, 1012, spread of closes, exit 0.
import assert from "node:assert/strict";
import http from "node:http";
import { after, describe, it } from "node:test";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { connect, metric, type TestClient, upgradeStatus } from "./client.js";

const ADMIN_KEY = "drain-test-admin-key-0123";
const admin = (url: string, path: string, body?: unknown) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    body: body === undefined ? "" : JSON.stringify(body),
  });

/** Fail instead of hanging when something never happens. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface Observed {
  reconnectAt: number | undefined;
  afterMs: number | undefined;
  reason: string | undefined;
  closeAt: number;
  code: number;
}

function observe(c: TestClient, start: () => number): Promise<Observed> {
  const o: Partial<Observed> = {};
  c.ws.on("message", (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === "reconnect") {
      o.reconnectAt = start();
      o.afterMs = f.afterMs;
      o.reason = f.reason;
    }
  });
  return c.closed.then(({ code }) => ({ ...o, closeAt: start(), code }) as Observed);
}

describe("drain", { timeout: 90_000 }, () => {
  for (const trigger of ["SIGTERM", "POST /admin/drain"] as const) {
    it(`${trigger}: not ready at once, upgrades 503, reconnect then 1012 spread over the window, exit 0`, async () => {
      const windowMs = 3000;
      const gw = await startGateway({
        env: { RTGW_ADMIN_KEY: ADMIN_KEY, RTGW_DRAIN_SECONDS: String(windowMs / 1000) },
      });
      const clients: TestClient[] = [];
      try {
        for (let i = 0; i < 40; i++) clients.push(await connect(gw.wsUrl));
        const t0 = Date.now();
        const since = () => Date.now() - t0;
        const observed = Promise.all(clients.map((c) => observe(c, since)));
        if (trigger === "SIGTERM") gw.kill("SIGTERM");
        else assert.equal((await admin(gw.adminUrl, "/admin/drain")).status, 200);
        // Readiness fails at once: within a few hundred ms (a signal is delivered asynchronously).
        let ready = await fetch(`${gw.url}/readyz`);
        while (ready.status === 200 && since() < 1500) ready = await fetch(`${gw.url}/readyz`);
        assert.equal(ready.status, 503);
        assert.equal(((await ready.json()) as { draining: boolean }).draining, true);
        assert.equal(await upgradeStatus(gw.wsUrl), 503);
        assert.equal(await metric(gw.metricsUrl, "rtgw_draining"), 1);
        assert.equal(await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="draining"}'), 1);
        const results = await within(observed, windowMs + 10_000, "every client closed");
        for (const r of results) {
          assert.equal(r.code, 1012);
          assert.equal(r.reason, "draining");
          assert.ok(r.afterMs !== undefined && r.afterMs >= 0 && r.afterMs < 5000);
          assert.ok(
            r.reconnectAt !== undefined && r.reconnectAt <= r.closeAt,
            "reconnect comes before the close",
          );
        }
        // Spread: closes cover the window rather than landing together.
        const times = results.map((r) => r.closeAt).sort((a, b) => a - b);
        const first = times[0] as number;
        const last = times.at(-1) as number;
        assert.ok(first < windowMs * 0.3, `first close at ${first}`);
        assert.ok(last > windowMs * 0.6 && last < windowMs + 3000, `last close at ${last}`);
        const thirds: number[] = [0, 0, 0];
        for (const t of times) {
          const i = Math.min(2, Math.floor((t / windowMs) * 3));
          thirds[i] = (thirds[i] ?? 0) + 1;
        }
        assert.ok(
          thirds.every((n) => n >= 4),
          `closes per third of the window: ${thirds}`,
        );
        assert.ok(new Set(results.map((r) => r.afterMs)).size > 20, "each connection gets its own afterMs");
        assert.equal(await within(gw.exited, 10_000, "exit after the drain"), 0);
      } finally {
        for (const c of clients) c.ws.terminate();
        await gw.stop();
      }
    });
  }

  it("a drain with no connections exits 0 at once", async () => {
    const gw = await startGateway({ env: { RTGW_DRAIN_SECONDS: "30" } });
    const t0 = Date.now();
    gw.kill("SIGTERM");
    assert.equal(await within(gw.exited, 10_000, "exit"), 0);
    assert.ok(Date.now() - t0 < 5000);
  });

  it("shed closes exactly `count` connections (newest first), jittered, and the pod stays ready", async () => {
    const gw = await startGateway({ env: { RTGW_ADMIN_KEY: ADMIN_KEY, RTGW_DRAIN_SECONDS: "30" } });
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 10; i++) clients.push(await connect(gw.wsUrl));
      const t0 = Date.now();
      const observed = clients.map((c) => observe(c, () => Date.now() - t0));
      const res = await admin(gw.adminUrl, "/admin/shed", { count: 4, seconds: 1 });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { shed: number }).shed, 4);
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
      const shed = await within(Promise.all(observed.slice(6)), 10_000, "the four newest closed");
      for (const r of shed) {
        assert.equal(r.code, 1012);
        assert.ok(r.reconnectAt !== undefined && r.afterMs !== undefined);
        assert.ok(r.closeAt < 5000, `closed after ${r.closeAt} ms`);
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(
        clients.slice(0, 6).every((c) => c.ws.readyState === c.ws.OPEN),
        "the oldest six stay",
      );
      const stats = (await (await fetch(`${gw.url}/api/stats`)).json()) as {
        connections: number;
        draining: boolean;
      };
      assert.deepEqual([stats.connections, stats.draining], [6, false]);
      assert.equal(await upgradeStatus(gw.wsUrl), 101, "still accepting");
      assert.equal((await admin(gw.adminUrl, "/admin/shed", { count: 0 })).status, 400);
      assert.equal((await admin(gw.adminUrl, "/admin/shed", { count: "x" })).status, 400);
    } finally {
      for (const c of clients) c.ws.terminate();
      await gw.stop();
    }
  });
});

after(stopAllGateways);

describe("the server API while draining", () => {
  after(stopAllGateways);

  it("answers with Connection: close, so a backend's keep-alive connection moves to another pod", async () => {
    const API_KEY = "drain-test-publish-key";
    const gw = await startGateway({
      env: { RTGW_ADMIN_KEY: ADMIN_KEY, RTGW_API_KEY: API_KEY, RTGW_DRAIN_SECONDS: "4" },
    });
    const holder = await connect(gw.wsUrl); // keeps the drain going for its window
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const publish = (data: number) =>
      new Promise<string | undefined>((resolve, reject) => {
        const req = http.request(
          `${gw.url}/api/publish`,
          { method: "POST", agent, headers: { authorization: `Bearer ${API_KEY}` } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.headers.connection));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ channel: "keepalive", data }));
      });
    try {
      assert.notEqual(await publish(1), "close", "kept alive while serving");
      assert.equal((await admin(gw.adminUrl, "/admin/drain")).status, 200);
      assert.equal(await publish(2), "close", "closed after the answer while draining");
    } finally {
      agent.destroy();
      holder.ws.terminate();
    }
  });
});
