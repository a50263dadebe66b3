// The event-loop HS256 check against a table of tokens, and held to jose's verdicts over random claims.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { jwtVerify, SignJWT } from "jose";
import { verifyHs256 } from "../../src/jwt-hs256.js";

const SECRET = "s".repeat(32);
const KEY = Buffer.from(SECRET);
const NOW = 1_800_000_000;
const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** A token from raw parts, signed with `key` (so headers jose would not write can be made). */
function token(header: unknown, payload: unknown, key: string = SECRET): string {
  const signing = `${b64(header)}.${b64(payload)}`;
  return `${signing}.${createHmac("sha256", key).update(signing).digest("base64url")}`;
}
const HS = { alg: "HS256", typ: "JWT" };
const LIVE = { sub: "u1", exp: NOW + 60 };

describe("verifyHs256", () => {
  const rows: [string, string, string | true, { issuer?: string; audience?: string }?][] = [
    ["a valid token", token(HS, LIVE), true],
    ["the wrong key", token(HS, LIVE, "t".repeat(32)), "bad signature"],
    ["a signature cut short", token(HS, LIVE).slice(0, -4), "bad signature"],
    ["alg none, unsigned", `${b64({ alg: "none" })}.${b64(LIVE)}.`, "invalid token"],
    ["alg none with a signature", token({ alg: "none" }, LIVE), "algorithm not allowed"],
    ["HS384 in the header", token({ alg: "HS384" }, LIVE), "algorithm not allowed"],
    ["RS256 in the header (algorithm confusion)", token({ alg: "RS256" }, LIVE), "algorithm not allowed"],
    ["two segments", `${b64(HS)}.${b64(LIVE)}`, "invalid token"],
    ["four segments", `${token(HS, LIVE)}.x`, "invalid token"],
    ["padding in a segment", `${b64(HS)}=.${b64(LIVE)}.abc`, "invalid token"],
    ["a header that is not JSON", token("{nope", LIVE), "invalid token"],
    ["a payload that is an array", token(HS, [1, 2]), "invalid token"],
    ["a crit header", token({ ...HS, crit: ["exp"] }, LIVE), "invalid token"],
    ["an unencoded payload (b64: false)", token({ ...HS, b64: false, crit: ["b64"] }, LIVE), "invalid token"],
    ["no exp", token(HS, { sub: "u1" }), "claim exp invalid: missing"],
    ["exp as a string", token(HS, { exp: String(NOW + 60) }), "claim exp invalid: not a number"],
    ["exp now (expired)", token(HS, { exp: NOW }), "token expired"],
    ["exp in the past", token(HS, { exp: NOW - 1 }), "token expired"],
    ["nbf in the future", token(HS, { ...LIVE, nbf: NOW + 1 }), "claim nbf invalid: not yet valid"],
    ["nbf now", token(HS, { ...LIVE, nbf: NOW }), true],
    ["iat not a number", token(HS, { ...LIVE, iat: "yesterday" }), "claim iat invalid: not a number"],
    ["the expected issuer", token(HS, { ...LIVE, iss: "auth" }), true, { issuer: "auth" }],
    [
      "another issuer",
      token(HS, { ...LIVE, iss: "evil" }),
      "claim iss invalid: unexpected value",
      { issuer: "auth" },
    ],
    [
      "no issuer where one is required",
      token(HS, LIVE),
      "claim iss invalid: unexpected value",
      { issuer: "auth" },
    ],
    ["the audience in a list", token(HS, { ...LIVE, aud: ["x", "chat"] }), true, { audience: "chat" }],
    [
      "another audience",
      token(HS, { ...LIVE, aud: "other" }),
      "claim aud invalid: unexpected value",
      { audience: "chat" },
    ],
  ];
  for (const [name, t, want, checks] of rows)
    it(name, () => {
      const v = verifyHs256(t, KEY, NOW, checks);
      if (want === true) assert.deepEqual(v.ok, true, JSON.stringify(v));
      else assert.deepEqual(v.ok ? "accepted" : v.reason, want);
    });

  it("gives jose's verdict over random claims, keys and checks", async () => {
    const key = new TextEncoder().encode(SECRET);
    const other = new TextEncoder().encode("t".repeat(32));
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            exp: fc.oneof(fc.integer({ min: NOW - 5, max: NOW + 5 }), fc.constant(undefined)),
            nbf: fc.oneof(fc.integer({ min: NOW - 5, max: NOW + 5 }), fc.constant(undefined)),
            iss: fc.constantFrom("auth", "evil", undefined),
            aud: fc.constantFrom("chat", "other", ["x", "chat"], [], undefined),
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        fc.constantFrom(undefined, "auth"),
        fc.constantFrom(undefined, "chat"),
        async (claims, rightKey, issuer, audience) => {
          const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
          const t = await new SignJWT(payload)
            .setProtectedHeader({ alg: "HS256" })
            .sign(rightKey ? key : other);
          const checks = { ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
          const ours = verifyHs256(t, KEY, NOW, checks).ok;
          const theirs = await jwtVerify(t, key, {
            algorithms: ["HS256"],
            requiredClaims: ["exp"],
            currentDate: new Date(NOW * 1000),
            ...checks,
          }).then(
            () => true,
            () => false,
          );
          assert.equal(ours, theirs, `${t} ${JSON.stringify(checks)}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});
