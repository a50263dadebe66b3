// The backend hooks' pure parts, as tables: answer parsing (result / error / disconnect / nonsense), the connect
// outcome (rights, session end, HTTP status), refresh outcomes, the data a publish hook leaves, which request
// headers reach the backend, and when a session is due for a refresh.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matches } from "../../src/channel-patterns.js";
import {
  checkConnect,
  connectResult,
  publishedData,
  publishResult,
  readAnswer,
  refreshOutcome,
  refreshResult,
  subscribeResult,
  type Verdict,
  verdictLabel,
} from "../../src/proxy/answers.js";
import { connectOutcome, connectRequest } from "../../src/proxy/connect.js";
import { REFRESH_AHEAD_MS, refreshDue } from "../../src/proxy/refresh.js";

const NOW = 1_700_000_000_000;
const S = NOW / 1000;

describe("readAnswer", () => {
  const cases: [string, unknown, Verdict<unknown>["kind"], string?][] = [
    ["empty result allows", { result: {} }, "allow"],
    ["extra result fields are ignored", { result: { later: 1 } }, "allow"],
    ["error refuses with its message", { error: { code: 403, message: "no" } }, "refuse", "no"],
    ["error without message text", { error: { message: "" } }, "refuse", "refused by the subscribe hook"],
    ["error wins over result", { error: { message: "no" }, result: {} }, "refuse", "no"],
    ["disconnect", { disconnect: { code: 4500, reason: "banned" } }, "disconnect"],
    ["disconnect code outside 4000-4999", { disconnect: { code: 1000, reason: "x" } }, "unavailable"],
    ["nothing known", { verdict: "yes" }, "unavailable"],
    ["not an object", "ok", "unavailable"],
    ["null", null, "unavailable"],
    ["result not an object", { result: 5 }, "unavailable"],
  ];
  for (const [name, body, kind, message] of cases)
    it(name, () => {
      const v = readAnswer("subscribe", body, subscribeResult);
      assert.equal(v.kind, kind);
      if (message !== undefined) assert.equal(v.kind === "refuse" && v.message, message);
    });

  it("names the bad field of an invalid result", () => {
    const v = readAnswer("connect", { result: { user: 5 } }, connectResult);
    assert.equal(v.kind, "unavailable");
    assert.match(v.kind === "unavailable" ? v.message : "", /result\.user/);
  });
  it("a bad server-side channel name is an invalid answer", () => {
    const v = readAnswer("connect", { result: { user: "u", channels: ["bad channel"] } }, connectResult);
    assert.equal(v.kind, "unavailable");
  });
});

describe("connectOutcome", () => {
  const allow = (result: unknown) => readAnswer("connect", { result }, connectResult);
  it("the backend's user, rights and session end; no rights by default", () => {
    const o = connectOutcome(
      allow({ user: "u", expireAt: S + 60, subscribe: ["a:*"], channels: ["n:1"] }),
      NOW,
    );
    assert.ok(o.ok);
    assert.equal(o.permissions.sub, "u");
    assert.equal(o.permissions.expiresAtMs, NOW + 60_000);
    assert.ok(matches(o.permissions.subscribe, "a:1"));
    assert.ok(!matches(o.permissions.subscribe, "b:1"));
    assert.ok(!matches(o.permissions.publish, "a:1"), "publish: none unless given");
    assert.deepEqual(o.channels, ["n:1"]);
  });
  it("no expireAt: a session without end", () => {
    const o = connectOutcome(allow({ user: "" }), NOW);
    assert.ok(o.ok && o.permissions.expiresAtMs === undefined && o.channels.length === 0);
  });
  const refused: [string, Verdict<never> | ReturnType<typeof allow>, number, string][] = [
    ["expireAt already past", allow({ user: "u", expireAt: S - 1 }), 401, "unauthorized"],
    ["expireAt now", allow({ user: "u", expireAt: S }), 401, "unauthorized"],
    ["error", { kind: "refuse", message: "no session" }, 401, "unauthorized"],
    ["disconnect", { kind: "disconnect", code: 4500, reason: "banned" }, 401, "unauthorized"],
    ["unavailable", { kind: "unavailable", message: "timeout" }, 503, "unavailable"],
  ];
  for (const [name, verdict, status, code] of refused)
    it(`${name}: ${status} ${code}`, () => {
      const o = connectOutcome(checkConnect(verdict, NOW), NOW);
      assert.deepEqual(o.ok ? "accepted" : [o.status, o.code], [status, code]);
    });
});

describe("refreshOutcome", () => {
  const v = (result: unknown) => readAnswer("refresh", { result }, refreshResult);
  const current = NOW + 2000;
  const cases: [string, Verdict<never> | ReturnType<typeof v>, ReturnType<typeof refreshOutcome>][] = [
    ["extended", v({ expireAt: S + 60 }), { extendTo: NOW + 60_000 }],
    ["never back in time", v({ expireAt: S + 1 }), { extendTo: current }],
    ["expired: true", v({ expired: true, expireAt: S + 60 }), { end: "session expired" }],
    ["no expireAt", v({}), { end: "session expired" }],
    ["expireAt past", v({ expireAt: S - 5 }), { end: "session expired" }],
    ["refused", { kind: "refuse", message: "logged out" }, { end: "logged out" }],
    ["disconnect", { kind: "disconnect", code: 4500, reason: "banned" }, { end: "banned" }],
    ["unavailable: ask again", { kind: "unavailable", message: "down" }, { retry: "down" }],
  ];
  for (const [name, verdict, want] of cases)
    it(name, () => assert.deepEqual(refreshOutcome(verdict, NOW, current), want));
});

describe("publish data and labels", () => {
  it("the rewrite when given, else the client's data", () => {
    assert.equal(publishedData({ data: { b: 2 } }, { a: 1 }), '{"b":2}');
    assert.equal(publishedData({}, { a: 1 }), '{"a":1}');
    assert.equal(publishedData({ data: null }, { a: 1 }), "null");
    const v = readAnswer("publish", { result: { data: [1, "x"] } }, publishResult);
    assert.deepEqual(v.kind === "allow" && v.value.data, [1, "x"]);
  });
  it("verdict labels", () => {
    assert.equal(verdictLabel({ kind: "allow", value: 1 }), "allow");
    assert.equal(verdictLabel({ kind: "allow", value: 1 }, true), "rewrite");
    assert.equal(verdictLabel({ kind: "unavailable", message: "" }), "unavailable");
  });
});

describe("connectRequest", () => {
  it("passes only cookie, origin and user-agent, and only when present", () => {
    const headers: Record<string, string> = {
      cookie: "sid=1",
      origin: "https://app",
      authorization: "Bearer secret",
      "sec-websocket-key": "k",
      "x-forwarded-for": "1.2.3.4",
    };
    assert.deepEqual(
      connectRequest("c1", (name) => headers[name] ?? "", "10.0.0.1"),
      {
        client: "c1",
        transport: "websocket",
        headers: { cookie: "sid=1", origin: "https://app" },
        remoteAddr: "10.0.0.1",
      },
    );
  });
});

describe("refreshDue", () => {
  const cases: [number | undefined, boolean][] = [
    [undefined, false],
    [NOW + REFRESH_AHEAD_MS + 1, false],
    [NOW + REFRESH_AHEAD_MS, true],
    [NOW + 1, true],
    [NOW, false], // past its end: the expiry sweep closes it
  ];
  for (const [at, due] of cases)
    it(`${at === undefined ? "none" : at - NOW} ms left: ${due}`, () =>
      assert.equal(refreshDue(at, NOW), due));
});
