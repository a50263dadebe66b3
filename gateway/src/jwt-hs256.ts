// HS256 tokens verified on the event loop. jose verifies through WebCrypto, whose HMAC is a thread-pool job: its
// scheduling cost ~75 µs of main-thread CPU per verify here (37 % of a gateway's CPU in a reconnect storm), where
// node:crypto's createHmac takes a few µs. Every connect pays it, and a drain or a rollout is thousands of connects
// a second. Same rules as jose's jwtVerify with { algorithms: ["HS256"], requiredClaims: ["exp"] } (a property
// test holds the two to the same verdicts); RS256/ES256 and JWKS tokens still go through jose.
import { createHmac, timingSafeEqual } from "node:crypto";

/** As jose's options: a list means any one of them. */
export interface Hs256Checks {
  issuer?: string | readonly string[] | undefined;
  audience?: string | readonly string[] | undefined;
}

const anyOf = (wanted: string | readonly string[]): readonly string[] =>
  typeof wanted === "string" ? [wanted] : wanted;

export type Hs256Verdict =
  | { ok: true; payload: Record<string, unknown> }
  /** `alg` says the token is not ours to check (another key may be): the caller tries the next one. */
  | { ok: false; reason: string; otherAlgorithm?: true };

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Pure apart from the HMAC: `now` in seconds since the epoch. */
export function verifyHs256(token: string, key: Buffer, now: number, checks: Hs256Checks = {}): Hs256Verdict {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "invalid token" };
  const [h, p, s] = parts as [string, string, string];
  if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(s)) return { ok: false, reason: "invalid token" };
  const header = jsonObject(h);
  if (!header) return { ok: false, reason: "invalid token" };
  if (header.alg !== "HS256") return { ok: false, reason: "algorithm not allowed", otherAlgorithm: true };
  // Extensions we do not implement must be refused (RFC 7515 §4.1.11), and b64:false changes what is signed.
  if (header.crit !== undefined || header.b64 !== undefined) return { ok: false, reason: "invalid token" };
  const expected = createHmac("sha256", key).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: "bad signature" };
  const payload = jsonObject(p);
  if (!payload) return { ok: false, reason: "invalid token" };
  const claim = (name: string, why: string): Hs256Verdict => ({
    ok: false,
    reason: `claim ${name} invalid: ${why}`,
  });
  const { exp, nbf, iat, iss, aud } = payload;
  if (exp === undefined) return claim("exp", "missing");
  if (typeof exp !== "number" || !Number.isFinite(exp)) return claim("exp", "not a number");
  if (exp <= now) return { ok: false, reason: "token expired" };
  if (nbf !== undefined && (typeof nbf !== "number" || !Number.isFinite(nbf)))
    return claim("nbf", "not a number");
  if (typeof nbf === "number" && nbf > now) return claim("nbf", "not yet valid");
  if (iat !== undefined && (typeof iat !== "number" || !Number.isFinite(iat)))
    return claim("iat", "not a number");
  if (checks.issuer !== undefined && !anyOf(checks.issuer).some((i) => i === iss))
    return claim("iss", "unexpected value");
  if (checks.audience !== undefined) {
    const given: unknown[] = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
    if (!anyOf(checks.audience).some((a) => given.includes(a))) return claim("aud", "unexpected value");
  }
  return { ok: true, payload };
}
