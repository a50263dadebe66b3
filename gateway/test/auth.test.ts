// JWT at upgrade against a real gateway: HS256, RS256, ES256; alg none, bad signature, expired, nbf refused.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { SignJWT, UnsecuredJWT } from "jose";
import type { GatewayProcess } from "../../test-support/gateway.js";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { connect, metric, upgradeStatus } from "./client.js";

const SECRET = "hs256-secret-for-tests-only-0123456789";
const now = () => Math.floor(Date.now() / 1000);
const channels = { subscribe: ["chat:*", "news"], publish: ["chat:room1"] };

const hs256 = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));

describe("JWT auth (HS256)", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET } });
  });
  after(() => gw.stop());

  it("accepts a valid token in the Authorization header and in ?token=", async () => {
    const token = await hs256({ sub: "alice", exp: now() + 60, channels });
    assert.equal(await upgradeStatus(gw.wsUrl, { authorization: `Bearer ${token}` }), 101);
    assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${token}`), 101);
  });

  it("refuses missing, alg none, wrong signature, expired, not-yet-valid, no exp, garbage with 401", async () => {
    const before = await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="unauthorized"}');
    const bad = {
      missing: "",
      algNone: new UnsecuredJWT({ sub: "x", exp: now() + 60, channels }).encode(),
      wrongSignature: await hs256({ sub: "x", exp: now() + 60, channels }, "another-secret-another-secret"),
      expired: await hs256({ sub: "x", exp: now() - 120, channels }),
      notYetValid: await hs256({ sub: "x", exp: now() + 3600, nbf: now() + 600, channels }),
      noExp: await hs256({ sub: "x", channels }),
      garbage: "a.b.c",
    };
    for (const [name, token] of Object.entries(bad)) {
      const status = await upgradeStatus(token ? `${gw.wsUrl}?token=${token}` : gw.wsUrl);
      assert.equal(status, 401, name);
    }
    const afterCount = await metric(gw.metricsUrl, 'rtgw_connections_rejected_total{reason="unauthorized"}');
    assert.equal(afterCount - before, Object.keys(bad).length);
  });

  it("checks the channels claim on subscribe, publish and presence", async () => {
    const token = await hs256({ sub: "bob", exp: now() + 60, channels });
    const c = await connect(gw.wsUrl, { headers: { authorization: `Bearer ${token}` } });
    try {
      const code = async (frame: Record<string, unknown>) => {
        const r = await c.request(frame);
        return r.type === "error" ? r.code : r.type;
      };
      // With presence on: only such subscriptions are presence members (checked at the end).
      assert.equal(await code({ type: "subscribe", channel: "chat:room1", presence: true }), "ack");
      assert.equal(await code({ type: "subscribe", channel: "news" }), "ack");
      assert.equal(await code({ type: "subscribe", channel: "newsroom" }), "forbidden");
      assert.equal(await code({ type: "subscribe", channel: "admin" }), "forbidden");
      assert.equal(await code({ type: "publish", channel: "chat:room1", data: 1 }), "ack");
      assert.equal(await code({ type: "publish", channel: "chat:room2", data: 1 }), "forbidden");
      assert.equal(await code({ type: "presence", channel: "chat:any" }), "ack");
      assert.equal(await code({ type: "presence", channel: "secret" }), "forbidden");
      const presence = await c.request({ type: "presence", channel: "chat:room1" });
      assert.ok(presence.type === "ack" && presence.members?.[0]?.sub === "bob");
    } finally {
      c.ws.terminate();
    }
  });
});

describe("JWT auth (expiry while connected)", { timeout: 30_000 }, () => {
  it("closes a connection with 4003 (token expired: come back with a fresh one) once its token expires", async () => {
    const gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET } });
    try {
      const shortLived = await hs256({ sub: "s", exp: now() + 2, channels });
      const longLived = await hs256({ sub: "l", exp: now() + 600, channels });
      const a = await connect(`${gw.wsUrl}?token=${shortLived}`);
      const b = await connect(`${gw.wsUrl}?token=${longLived}`);
      const t0 = Date.now();
      const closed = await a.closed;
      assert.deepEqual(closed, { code: 4003, reason: "token expired" });
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(b.ws.readyState, b.ws.OPEN);
      b.ws.terminate();
    } finally {
      await gw.stop();
    }
  });
});

describe("JWT auth (RS256 and ES256 public keys)", { timeout: 60_000 }, () => {
  for (const [alg, pair] of [
    ["RS256", generateKeyPairSync("rsa", { modulusLength: 2048 })],
    ["ES256", generateKeyPairSync("ec", { namedCurve: "P-256" })],
  ] as const) {
    it(`${alg}: accepts a signed token, refuses another key's and an HS256 token made from the PEM`, async () => {
      const pem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
      const gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_PUBLIC_KEY: pem } });
      try {
        const good = await new SignJWT({ sub: "k", exp: now() + 60, channels })
          .setProtectedHeader({ alg })
          .sign(pair.privateKey);
        assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${good}`), 101);
        const other =
          alg === "RS256"
            ? generateKeyPairSync("rsa", { modulusLength: 2048 })
            : generateKeyPairSync("ec", { namedCurve: "P-256" });
        const forged = await new SignJWT({ sub: "k", exp: now() + 60 })
          .setProtectedHeader({ alg })
          .sign(other.privateKey);
        assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${forged}`), 401);
        // Algorithm confusion: an HMAC signed with the public key's bytes must not pass.
        const confused = await hs256({ sub: "k", exp: now() + 60 }, pem);
        assert.equal(await upgradeStatus(`${gw.wsUrl}?token=${confused}`), 401);
      } finally {
        await gw.stop();
      }
    });
  }
});

after(stopAllGateways);
