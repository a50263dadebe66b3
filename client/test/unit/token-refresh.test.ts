import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refreshDelayMs, tokenExpiryMs } from "../../src/token-refresh.js";

const jwt = (payload: unknown) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.sig`;

describe("tokenExpiryMs", () => {
  const table: [string, string, number | undefined][] = [
    ["exp in seconds", jwt({ exp: 1_700_000_000 }), 1_700_000_000_000],
    ["base64url characters", jwt({ exp: 1, sub: "??>>~~" }), 1000],
    ["no exp", jwt({ sub: "x" }), undefined],
    ["exp not a number", jwt({ exp: "soon" }), undefined],
    ["not a JWT", "opaque-token", undefined],
    ["garbage payload", "a.%%%.c", undefined],
  ];
  for (const [name, token, want] of table) it(name, () => assert.equal(tokenExpiryMs(token), want));
});

describe("refreshDelayMs", () => {
  const table: [string, number | undefined, number, number, number | undefined][] = [
    ["aheadMs before a long token's expiry", 3_600_000, 0, 30_000, 3_570_000],
    ["half the lifetime of a short one", 10_000, 0, 30_000, 5_000],
    ["never sooner than 1 s", 1_500, 0, 30_000, 1_000],
    ["expired: nothing", 1_000, 2_000, 30_000, undefined],
    ["no exp: nothing", undefined, 0, 30_000, undefined],
    ["disabled", 60_000, 0, 0, undefined],
  ];
  for (const [name, exp, now, ahead, want] of table)
    it(name, () => assert.equal(refreshDelayMs(exp, now, ahead), want));
});
