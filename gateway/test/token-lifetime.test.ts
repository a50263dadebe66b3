// Token lifetime on a live connection: `refresh` replaces the token in place (expiry and rights, acked; a
// subscription no longer allowed ends with a `forbidden` error naming it), and `?auth=frame` takes the token in the
// first frame instead of the URL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { connect, upgradeStatus } from "./client.js";

const SECRET = "token-lifetime-secret-0123456789abcdef";
const now = () => Math.floor(Date.now() / 1000);
const hs256 = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
const rights = (subscribe: string[], publish: string[] = []) => ({ channels: { subscribe, publish } });

describe("token refresh", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET } });
  });

  it("a refresh before expiry keeps the connection past the first token's exp", async () => {
    const first = await hs256({ sub: "u", exp: now() + 2, ...rights(["a"]) });
    const c = await connect(`${gw.wsUrl}?token=${first}`);
    try {
      assert.equal((await c.request({ type: "subscribe", channel: "a" })).type, "ack");
      const second = await hs256({ sub: "u", exp: now() + 600, ...rights(["a"]) });
      assert.equal((await c.request({ type: "refresh", token: second })).type, "ack");
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(c.ws.readyState, c.ws.OPEN, "still open past the first token's exp");
      assert.equal((await c.request({ type: "ping" })).type, "pong");
    } finally {
      c.ws.terminate();
    }
  });

  it("new rights apply at once: a subscription no longer allowed ends with forbidden naming the channel", async () => {
    const first = await hs256({ sub: "u", exp: now() + 600, ...rights(["a", "b"]) });
    const c = await connect(`${gw.wsUrl}?token=${first}`);
    try {
      for (const channel of ["a", "b"])
        assert.equal((await c.request({ type: "subscribe", channel })).type, "ack");
      const narrower = await hs256({ sub: "u", exp: now() + 900, ...rights(["a"], ["a"]) });
      assert.equal((await c.request({ type: "refresh", token: narrower })).type, "ack");
      const ended = await c.next((f) => f.type === "error" && f.id === undefined);
      assert.deepEqual(
        { code: ended.type === "error" && ended.code, channel: ended.type === "error" && ended.channel },
        { code: "forbidden", channel: "b" },
      );
      // b is gone (unsubscribing it finds nothing), a stays, and the new publish right works.
      const unsub = await c.request({ type: "unsubscribe", channel: "b" });
      assert.equal(unsub.type === "error" && unsub.code, "not_found");
      assert.equal((await c.request({ type: "publish", channel: "a", data: 1 })).type, "ack");
      await c.next((f) => f.type === "message" && f.channel === "a");
    } finally {
      c.ws.terminate();
    }
  });

  it("a bad, foreign-sub or older refresh is refused and the old token stays", async () => {
    const first = await hs256({ sub: "u", exp: now() + 600, ...rights(["a"]) });
    const c = await connect(`${gw.wsUrl}?token=${first}`);
    try {
      const forged = await hs256(
        { sub: "u", exp: now() + 900, ...rights(["*"]) },
        "another-secret-0123456789abcdef",
      );
      const other = await hs256({ sub: "mallory", exp: now() + 900, ...rights(["a"]) });
      const older = await hs256({ sub: "u", exp: now() + 60, ...rights(["a"]) });
      for (const token of [forged, other, older]) {
        const r = await c.request({ type: "refresh", token });
        assert.equal(r.type, "error");
      }
      const sub = await c.request({ type: "subscribe", channel: "z" });
      assert.equal(sub.type === "error" && sub.code, "forbidden", "the forged token's * was not taken");
      assert.equal(c.ws.readyState, c.ws.OPEN);
    } finally {
      c.ws.terminate();
    }
  });

  it("?auth=frame: the token in the first frame, never in the URL", async () => {
    const token = await hs256({ sub: "f", exp: now() + 600, ...rights(["a"]) });
    assert.equal(await upgradeStatus(gw.wsUrl), 401, "no token and no auth=frame: refused at the upgrade");
    const c = await connect(`${gw.wsUrl}?auth=frame`);
    try {
      assert.equal((await c.request({ type: "refresh", token })).type, "ack");
      assert.equal((await c.request({ type: "subscribe", channel: "a" })).type, "ack");
    } finally {
      c.ws.terminate();
    }
    // Anything but refresh or ping first is a policy close; so is a bad token.
    const early = await connect(`${gw.wsUrl}?auth=frame`);
    early.send({ type: "subscribe", id: 1, channel: "a" });
    assert.equal((await early.closed).code, 1008);
    const bad = await connect(`${gw.wsUrl}?auth=frame`);
    bad.send({ type: "refresh", id: 1, token: "a.b.c" });
    assert.equal((await bad.closed).code, 1008);
  });
});

describe("token in the first frame: the deadline", { timeout: 60_000 }, () => {
  it("a connection that never sends its token is closed with 1008 within the deadline", async () => {
    const gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET } });
    const c = await connect(`${gw.wsUrl}?auth=frame`);
    const t0 = Date.now();
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.ok(Date.now() - t0 < 13_000, "within 10 s + one sweep");
    await gw.stop();
  });
});

after(stopAllGateways);
