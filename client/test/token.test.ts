// The client's token lifetime against a real gateway: refresh ahead of expiry through the token function (the
// connection stays up), reconnect with a fresh token on 4003, the token in the first frame instead of the URL, and
// a subscription the refreshed token no longer allows ending with `forbidden`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { type Client, connect, type RtgwError } from "../src/index.js";
import { recordingWebSocket, stateLog, until } from "./helpers.js";

const SECRET = "client-token-secret-0123456789abcdef";
const mint = (seconds: number, subscribe = ["t:*"], publish = ["t:*"]) =>
  new SignJWT({ channels: { subscribe, publish } })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user")
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));

describe("client token lifetime", { timeout: 120_000 }, () => {
  let gw: GatewayProcess;
  const clients: Client[] = [];
  before(async () => {
    gw = await startGateway({ env: { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET, RTGW_REFRESH_RATE: "10" } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await stopAllGateways();
  });

  it("refreshes ahead of expiry in place: one connection outlives several 3 s tokens", async () => {
    const recorder = recordingWebSocket();
    let asked = 0;
    const client = connect(gw.wsUrl, {
      WebSocket: recorder.WebSocket,
      token: () => {
        asked += 1;
        return mint(3);
      },
      refreshAheadMs: 1500,
    });
    clients.push(client);
    const states = stateLog(client);
    const got: number[] = [];
    await client.subscribe("t:a", (_d, m) => got.push(m.offset)).ready;
    await new Promise((r) => setTimeout(r, 7000));
    assert.equal(recorder.log.opened, 1, "never reconnected");
    assert.ok(!states.some((s) => s.state === "disconnected"), JSON.stringify(states));
    assert.ok(recorder.log.sent.filter((f) => f.type === "refresh").length >= 3, "refreshed in place");
    assert.ok(asked >= 4);
    await client.publish("t:a", 1);
    await until("delivered after the refreshes", () => got.length === 1);
  });

  it("without refresh, 4003 at expiry: reconnects with a fresh token and resumes", async () => {
    const recorder = recordingWebSocket();
    const client = connect(gw.wsUrl, {
      WebSocket: recorder.WebSocket,
      token: () => mint(2),
      refreshAheadMs: 0,
      backoff: { baseMs: 20, maxMs: 100 },
    });
    clients.push(client);
    const states = stateLog(client);
    await client.subscribe("t:b", () => {}).ready;
    await until(
      "closed with 4003 and back",
      () => recorder.log.opened >= 2 && client.state === "connected",
      10_000,
    );
    assert.ok(
      states.some((s) => s.closeCode === 4003),
      JSON.stringify(states),
    );
    assert.ok(!states.some((s) => s.state === "closed"));
  });

  it("tokenIn frame: the token goes in the first frame, not the URL", async () => {
    const recorder = recordingWebSocket();
    const token = await mint(600);
    const client = connect(gw.wsUrl, { WebSocket: recorder.WebSocket, token, tokenIn: "frame" });
    clients.push(client);
    const got: unknown[] = [];
    await client.subscribe("t:c", (d) => got.push(d)).ready;
    await client.publish("t:c", { hi: 1 });
    await until("delivered", () => got.length === 1);
    assert.ok(!recorder.log.urls.some((u) => u.includes(token)), "the token is in no URL");
    assert.match(recorder.log.urls[0] ?? "", /[?&]auth=frame/);
    assert.deepEqual(recorder.log.sent[0], { type: "refresh", id: recorder.log.sent[0]?.id, token });
  });

  it("a refreshed token that drops a channel ends that subscription with forbidden", async () => {
    let narrow = false;
    const client = connect(gw.wsUrl, {
      WebSocket: recordingWebSocket().WebSocket,
      token: () => (narrow ? mint(600, ["t:keep"]) : mint(3, ["t:keep", "t:drop"])),
      refreshAheadMs: 2000,
    });
    clients.push(client);
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));
    await client.subscribe("t:keep", () => {}).ready;
    await client.subscribe("t:drop", () => {}).ready;
    narrow = true;
    await until("the subscription ended", () => errors.some((e) => e.details.channel === "t:drop"), 8000);
    const ended = errors.find((e) => e.details.channel === "t:drop");
    assert.equal(ended?.code, "forbidden");
    assert.equal(client.state, "connected");
  });
});
