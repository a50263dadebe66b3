// The connection admission's decisions, as tables: the checks before any await (Origin, then the refusal), who
// checks the rights (`?auth=frame`, the connect hook, the token), a token check as an outcome, and the answer once
// the check answered with the refusal as it stands then.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode } from "../../../protocol/index.js";
import {
  type Admission,
  type Checker,
  checker,
  gate,
  ORIGIN_REFUSED,
  type Refusal,
  refusedNow,
  settle,
  tokenOutcome,
} from "../../src/admission.js";
import { ANONYMOUS } from "../../src/auth.js";
import { connectionsRejected } from "../../src/metrics.js";
import type { ConnectOutcome } from "../../src/proxy/connect.js";

const DRAINING: Refusal = [503, ErrorCode.Draining, "draining"];
const FULL: Refusal = [503, ErrorCode.Full, "full"];
const brief = (a: Admission | undefined) =>
  a === undefined ? "go on" : a.ok ? "ok" : `${a.status} ${a.code}`;

describe("gate", () => {
  const cases: [string, boolean, Refusal, string][] = [
    ["allowed origin, nothing refused", true, undefined, "go on"],
    ["disallowed origin", false, undefined, "403 origin"],
    ["disallowed origin wins over a drain", false, DRAINING, "403 origin"],
    ["draining", true, DRAINING, "503 draining"],
    ["full", true, FULL, "503 full"],
  ];
  for (const [name, origin, refusal, want] of cases)
    it(name, () => assert.equal(brief(gate(origin, refusal)), want));
  it("an origin refusal names the setting", () =>
    assert.match(ORIGIN_REFUSED.ok ? "" : ORIGIN_REFUSED.message, /RTGW_ALLOWED_ORIGINS/));
});

describe("checker", () => {
  // auth, has token, ?auth=frame, has connect hook → who checks
  const cases: ["jwt" | "none", boolean, boolean, boolean, Checker][] = [
    ["jwt", true, false, false, "token"],
    ["jwt", false, false, false, "token"], // no token, no hook: the token check says 401
    ["jwt", false, true, false, "frame"],
    ["jwt", false, true, true, "frame"], // ?auth=frame asks for the frame, not the cookie
    ["jwt", true, true, true, "token"], // a token in the URL wins over ?auth=frame
    ["jwt", false, false, true, "hook"], // a cookie session
    ["jwt", true, false, true, "token"], // a JWT skips the hook
    ["none", false, false, false, "token"], // RTGW_AUTH=none: the authenticator allows all
    ["none", true, false, true, "hook"], // under none the hook decides even with a token
    ["none", false, true, true, "hook"], // ?auth=frame means nothing without JWTs
    ["none", false, true, false, "token"],
  ];
  for (const [auth, token, frame, hook, want] of cases)
    it(`${auth} token=${token} frame=${frame} hook=${hook} → ${want}`, () =>
      assert.equal(checker(auth, token, frame, hook), want));
});

describe("tokenOutcome", () => {
  it("a valid token's rights", () =>
    assert.deepEqual(tokenOutcome({ ok: true, permissions: ANONYMOUS }), {
      ok: true,
      permissions: ANONYMOUS,
      channels: [],
    }));
  it("a failed check is 401 with its reason", () =>
    assert.deepEqual(tokenOutcome({ ok: false, reason: "token expired" }), {
      ok: false,
      status: 401,
      code: ErrorCode.Unauthorized,
      reason: "token expired",
    }));
});

describe("settle", () => {
  const allowed: ConnectOutcome = { ok: true, permissions: ANONYMOUS, channels: ["news:all"] };
  const hookDown: ConnectOutcome = { ok: false, status: 503, code: ErrorCode.Unavailable, reason: "timeout" };
  const refused: ConnectOutcome = {
    ok: false,
    status: 401,
    code: ErrorCode.Unauthorized,
    reason: "no session",
  };
  const cases: [string, ConnectOutcome, Refusal, string][] = [
    ["allowed, nothing refused", allowed, undefined, "ok"],
    ["allowed, but a drain began meanwhile", allowed, DRAINING, "503 draining"],
    ["allowed, but full meanwhile", allowed, FULL, "503 full"],
    ["refused by the check", refused, undefined, "401 unauthorized"],
    ["the check's refusal wins over a drain", refused, DRAINING, "401 unauthorized"],
    ["a hook that did not answer", hookDown, undefined, "503 unavailable"],
  ];
  for (const [name, outcome, refusal, want] of cases)
    it(name, () => assert.equal(brief(settle(outcome, refusal, false)), want));
  it("an admission carries the rights, the server-side channels and whether the token is still to come", () => {
    assert.deepEqual(settle(allowed, undefined, true), {
      ok: true,
      permissions: ANONYMOUS,
      serverChannels: ["news:all"],
      awaitingToken: true,
    });
    assert.deepEqual(settle(refused, undefined, false), {
      ok: false,
      status: 401,
      code: ErrorCode.Unauthorized,
      message: "no session",
    });
  });
});

describe("refusedNow (a transport's own re-check after a later await)", () => {
  const rejected = async (reason: string) =>
    (await connectionsRejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it("is undefined while connections are taken, and counts nothing", async () => {
    const before = await rejected(ErrorCode.Draining);
    assert.equal(refusedNow(undefined), undefined);
    assert.equal(await rejected(ErrorCode.Draining), before);
  });

  it("answers as admission does, and counts the refusal by its code", async () => {
    const before = await rejected(ErrorCode.Draining);
    assert.deepEqual(refusedNow(DRAINING), {
      ok: false,
      status: 503,
      code: ErrorCode.Draining,
      message: "draining",
    });
    assert.equal(await rejected(ErrorCode.Draining), before + 1);
  });
});
