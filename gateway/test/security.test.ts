// The hostile-client suite: what someone on the internet, or a backend holding only the publish key, tries.
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { exportJWK, SignJWT } from "jose";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { JWKS_COOLDOWN_MS } from "../src/auth.js";
import { connect, metric, upgradeStatus } from "./client.js";

const API_KEY = "security-publish-key-0123";
const ADMIN_KEY = "security-admin-key-0123456789";
const post = (url: string, key: string, body: unknown = {}) =>
  fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("two credentials, two ports", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({ env: { RTGW_API_KEY: API_KEY, RTGW_ADMIN_KEY: ADMIN_KEY } });
  });

  it("the client port has no /admin/* and no /metrics, even with the admin key", async () => {
    for (const path of ["/admin/drain", "/admin/shed"]) {
      const res = await post(`${gw.url}${path}`, ADMIN_KEY, { count: 1 });
      assert.equal(res.status, 404, path);
    }
    assert.equal((await fetch(`${gw.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200, "still ready: nothing drained");
  });

  it("the publish key does not open /admin/*; the admin key does not publish", async () => {
    for (const path of ["/admin/drain", "/admin/shed"])
      assert.equal((await post(`${gw.adminUrl}${path}`, API_KEY, { count: 1 })).status, 401, path);
    const publish = await post(`${gw.url}/api/publish`, ADMIN_KEY, { channel: "c", data: 1 });
    assert.equal(publish.status, 401);
    assert.equal((await post(`${gw.url}/api/publish`, API_KEY, { channel: "c", data: 1 })).status, 200);
  });

  it("the internal port answers /admin/* to the admin key and nothing else of the client API", async () => {
    const shed = await post(`${gw.adminUrl}/admin/shed`, ADMIN_KEY, { count: 1 });
    assert.equal(shed.status, 200);
    assert.deepEqual(await shed.json(), { shed: 0, connections: 0 });
    assert.equal((await post(`${gw.adminUrl}/admin/shed`, ADMIN_KEY, { count: 0 })).status, 400);
    assert.equal((await post(`${gw.adminUrl}/api/publish`, API_KEY, { channel: "c", data: 1 })).status, 404);
    assert.equal((await fetch(gw.metricsUrl)).status, 200);
  });

  it("a scrape does not list the process's sockets (no process_open_fds: a readdir of every fd per scrape)", async () => {
    const text = await (await fetch(gw.metricsUrl)).text();
    assert.match(text, /^process_max_fds \d+/m);
    assert.match(text, /^rtgw_connections \d+/m);
    assert.doesNotMatch(text, /process_open_fds/);
  });
});

const SECRET = "security-hs256-secret-0123456789abcdef";
const now = () => Math.floor(Date.now() / 1000);
const hs256 = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));

describe("the upgrade: Origin, forged and expired tokens, issuer and audience", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({
      env: {
        RTGW_AUTH: "jwt",
        RTGW_JWT_SECRET: SECRET,
        RTGW_JWT_ISSUER: "https://auth.example.com",
        RTGW_JWT_AUDIENCE: "rtgw,rtgw-staging",
        RTGW_ALLOWED_ORIGINS: "https://app.example.com, https://*.example.org",
      },
    });
  });
  const good = (extra: Record<string, unknown> = {}) =>
    hs256({ sub: "u", exp: now() + 60, iss: "https://auth.example.com", aud: "rtgw", ...extra });

  it("a foreign Origin gets 403 (counted), an allowed one or none gets through", async () => {
    const token = await good();
    const url = `${gw.wsUrl}?token=${token}`;
    const before = await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="origin"}');
    assert.equal(await upgradeStatus(url, { origin: "https://evil.example.net" }), 403);
    assert.equal(await upgradeStatus(url, { origin: "https://app.example.com.evil.net" }), 403);
    assert.equal(await upgradeStatus(url, { origin: "http://app.example.com" }), 403, "scheme matters");
    assert.equal(await upgradeStatus(url, { origin: "https://app.example.com" }), 101);
    assert.equal(await upgradeStatus(url, { origin: "https://eu.example.org" }), 101);
    assert.equal(await upgradeStatus(url), 101, "no Origin: not a browser");
    assert.equal(
      (await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="origin"}')) - before,
      3,
    );
  });

  it("forged, expired, wrong-issuer and wrong-audience tokens get 401", async () => {
    const bad = {
      forged: await hs256(
        {
          sub: "u",
          exp: now() + 60,
          iss: "https://auth.example.com",
          aud: "rtgw",
          channels: { subscribe: ["*"] },
        },
        "attacker-secret-attacker-secret-0123",
      ),
      expired: await good({ exp: now() - 60 }),
      noIssuer: await hs256({ sub: "u", exp: now() + 60, aud: "rtgw" }),
      wrongIssuer: await good({ iss: "https://evil.example.net" }),
      noAudience: await hs256({ sub: "u", exp: now() + 60, iss: "https://auth.example.com" }),
      wrongAudience: await good({ aud: "another-service" }),
    };
    for (const [name, token] of Object.entries(bad))
      assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${token}`), 401, name);
    assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${await good({ aud: ["x", "rtgw-staging"] })}`), 101);
  });
});

describe("the HS256 secret", { timeout: 30_000 }, () => {
  it("under 32 bytes: the gateway exits 2 naming the variable", async () => {
    await assert.rejects(
      startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: "short-but-not-empty" } }),
      /exited with 2[\s\S]*RTGW_JWT_SECRET must be an HS256 secret of at least 32 bytes/,
    );
  });
});

/** A JWKS endpoint on loopback whose key set the test rotates; counts fetches. */
async function jwksServer() {
  let keys: { kid: string; publicKey: KeyObject }[] = [];
  let fetches = 0;
  const server: Server = createServer(async (_req, res) => {
    fetches += 1;
    const jwks = await Promise.all(
      keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: "RS256", use: "sig" })),
    );
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    setKeys: (next: typeof keys) => {
      keys = next;
    },
    fetches: () => fetches,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("JWKS: cached, rotated", { timeout: 90_000 }, () => {
  it("verifies by kid, caches the set, picks up a rotated key, refuses a removed one", async () => {
    const jwks = await jwksServer();
    const pair = (kid: string) => ({ kid, ...generateKeyPairSync("rsa", { modulusLength: 2048 }) });
    const [k1, k2] = [pair("k1"), pair("k2")];
    const sign = (k: typeof k1) =>
      new SignJWT({ sub: "j", exp: now() + 60 })
        .setProtectedHeader({ alg: "RS256", kid: k.kid })
        .sign(k.privateKey);
    jwks.setKeys([k1]);
    const gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_JWKS_URL: jwks.url } });
    try {
      assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${await sign(k1)}`), 101);
      assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${await sign(k1)}`), 101);
      assert.equal(jwks.fetches(), 1, "the set is cached");
      // An HS256 token signed with anything is refused: the JWKS takes asymmetric algorithms only.
      assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${await hs256({ exp: now() + 60 })}`), 401);
      // Rotation: the issuer publishes k2 and drops k1. Past the cooldown, a token naming the new kid makes the
      // gateway re-read the set.
      jwks.setKeys([k2]);
      await new Promise((r) => setTimeout(r, JWKS_COOLDOWN_MS + 500));
      assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${await sign(k2)}`), 101);
      assert.equal(jwks.fetches(), 2, "re-fetched once for the new kid");
      // The removed key no longer verifies; kids nobody published do not make it fetch again (no flood).
      assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${await sign(k1)}`), 401, "k1 was removed");
      for (let i = 0; i < 5; i++)
        assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${await sign(pair(`x${i}`))}`), 401);
      assert.equal(jwks.fetches(), 2, "within the cooldown: no fetch per unknown kid");
      const c = await connect(`${gw.wsUrl}?token=${await sign(k2)}`);
      c.ws.terminate();
    } finally {
      await gw.stop();
      await jwks.close();
    }
  });
});

describe("floods: each client operation has its own bucket", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({
      env: {
        ...Object.fromEntries(
          ["SUBSCRIBE", "UNSUBSCRIBE", "PRESENCE", "HISTORY"].flatMap((op) => [
            [`RTGW_${op}_RATE`, "0.1"],
            [`RTGW_${op}_BURST`, op === "HISTORY" ? "2" : "4"],
          ]),
        ),
        RTGW_RATE_LIMIT_STRIKES: "5",
      },
    });
  });
  const code = (f: { type: string; code?: string }) => (f.type === "error" ? f.code : f.type);
  const limited = (op: string) => metric(gw.metricsUrl, `rtgw_rate_limited_total{operation="${op}"}`);

  it("a subscribe/unsubscribe loop with since: 0 is limited per operation, then closed 1008", async () => {
    const c = await connect(gw.wsUrl);
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push(code(await c.request({ type: "subscribe", channel: "h", since: 0 })));
      codes.push(code(await c.request({ type: "unsubscribe", channel: "h" })));
    }
    // history (burst 2) runs out before subscribe (burst 4); the third unsubscribe finds nothing subscribed.
    assert.deepEqual(codes, ["ack", "ack", "ack", "ack", "rate_limited", "not_found"]);
    assert.equal(
      code(await c.request({ type: "subscribe", channel: "plain" })),
      "ack",
      "subscribe has tokens left",
    );
    assert.equal(await limited("history"), 1);
    for (let i = 0; i < 10; i++) c.send({ type: "subscribe", id: 100 + i, channel: "h", since: 0 });
    assert.equal((await c.closed).code, 1008);
    assert.ok((await limited("subscribe")) + (await limited("history")) >= 5);
  });

  it("a presence flood gets rate_limited, then 1008", async () => {
    const c = await connect(gw.wsUrl);
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) codes.push(code(await c.request({ type: "presence", channel: "p" })));
    assert.deepEqual(codes, ["ack", "ack", "ack", "ack", "rate_limited", "rate_limited"]);
    assert.ok((await limited("presence")) >= 2);
    for (let i = 0; i < 10; i++) c.send({ type: "presence", id: 100 + i, channel: "p" });
    assert.equal((await c.closed).code, 1008);
    // Another connection is unaffected.
    const other = await connect(gw.wsUrl);
    assert.equal(code(await other.request({ type: "presence", channel: "p" })), "ack");
    other.ws.terminate();
  });
});

describe("presence leaks nothing unasked", { timeout: 60_000 }, () => {
  it("RTGW_PRESENCE_FIELDS=none: members carry no sub; subscribers without presence are no members", async () => {
    const gw = await startGateway({
      env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET, RTGW_PRESENCE_FIELDS: "none" },
    });
    const rights = { channels: { subscribe: ["room"], publish: [] } };
    const as = async (sub: string) =>
      connect(`${gw.wsUrl}?token=${await hs256({ sub, exp: now() + 60, ...rights })}`);
    const [watcher, alice, bob] = [await as("watcher"), await as("alice"), await as("bob")];
    try {
      await watcher.request({ type: "subscribe", channel: "room", presence: true });
      await bob.request({ type: "subscribe", channel: "room" }); // no presence: invisible
      await alice.request({ type: "subscribe", channel: "room", presence: true });
      const join = await watcher.next((f) => f.type === "join");
      assert.ok(join.type === "join" && join.member.sub === undefined, JSON.stringify(join));
      const list = await watcher.request({ type: "presence", channel: "room" });
      assert.ok(list.type === "ack");
      assert.equal(list.members?.length, 2, "watcher and alice, not bob");
      assert.ok(
        list.members?.every((m) => m.sub === undefined),
        JSON.stringify(list.members),
      );
      assert.ok(!watcher.raw.some((t) => t.includes("alice") || t.includes("bob")), "no sub anywhere");
    } finally {
      for (const c of [watcher, alice, bob]) c.ws.terminate();
      await gw.stop();
    }
  });
});

after(stopAllGateways);
