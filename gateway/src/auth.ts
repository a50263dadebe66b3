// JWT verification (jose) and the per-connection permissions it yields.
import { createPublicKey, type KeyObject } from "node:crypto";
import { createRemoteJWKSet, type JWTVerifyOptions, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import { ALLOW_ALL, type ChannelPatterns, compilePatterns } from "./channel-patterns.js";
import type { GatewayConfig } from "./config.js";
import { verifyHs256 } from "./jwt-hs256.js";

export interface Permissions {
  sub: string | undefined;
  /** Token expiry (ms since epoch); the connection is closed with 4003 when it passes (unless refreshed). */
  expiresAtMs: number | undefined;
  subscribe: ChannelPatterns;
  publish: ChannelPatterns;
}

export const ANONYMOUS: Permissions = {
  sub: undefined,
  expiresAtMs: undefined,
  subscribe: ALLOW_ALL,
  publish: ALLOW_ALL,
};

const claimsSchema = z.object({
  sub: z.string().max(256).optional(),
  exp: z.number(),
  channels: z
    .object({
      subscribe: z.array(z.string().max(256)).max(1000).default([]),
      publish: z.array(z.string().max(256)).max(1000).default([]),
    })
    .default({ subscribe: [], publish: [] }),
});

/** How long a connection opened with `?auth=frame` may take to send its token in a `refresh` frame. */
export const AUTH_FRAME_TIMEOUT_MS = 10_000;
const NOTHING = compilePatterns([]);

/** A connection that has not yet sent its token (`?auth=frame`): may do nothing but `refresh` and `ping`. */
export function awaitingToken(nowMs: number): Permissions {
  return { sub: undefined, expiresAtMs: nowMs + AUTH_FRAME_TIMEOUT_MS, subscribe: NOTHING, publish: NOTHING };
}

export const JWKS_COOLDOWN_MS = 5_000;

export type AuthResult = { ok: true; permissions: Permissions } | { ok: false; reason: string };

export interface Authenticator {
  /** Verify a token (undefined when the request carried none). Never throws. */
  verify(token: string | undefined): Promise<AuthResult>;
}

/** Many connections share the same claims: compile each distinct set of patterns once (bounded cache). */
function patternCache(limit: number): (patterns: readonly string[]) => ChannelPatterns {
  const cache = new Map<string, ChannelPatterns>();
  return (patterns) => {
    const key = patterns.join("\n");
    let compiled = cache.get(key);
    if (!compiled) {
      compiled = compilePatterns(patterns);
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      cache.set(key, compiled);
    }
    return compiled;
  };
}

export function createAuthenticator(config: GatewayConfig): Authenticator {
  if (config.auth === "none") return { verify: async () => ({ ok: true, permissions: ANONYMOUS }) };

  type Key = KeyObject | ReturnType<typeof createRemoteJWKSet>;
  const keys: { key: Key; algorithms: string[] }[] = [];
  // HS256 is checked on the event loop (jwt-hs256.ts); jose takes the asymmetric keys and the JWKS.
  const secret = config.jwtSecret ? Buffer.from(config.jwtSecret, "utf8") : undefined;
  if (config.jwtPublicKey) {
    const key = createPublicKey(config.jwtPublicKey);
    const algorithm =
      key.asymmetricKeyType === "rsa" ? "RS256" : key.asymmetricKeyType === "ec" ? "ES256" : "";
    if (!algorithm) throw new Error(`RTGW_JWT_PUBLIC_KEY: unsupported key type ${key.asymmetricKeyType}`);
    keys.push({ key, algorithms: [algorithm] });
  }
  if (config.jwtJwksUrl) {
    // jose caches the set, picks the key by `kid`, and re-fetches when a token names a key it does not have (at
    // most every JWKS_COOLDOWN_MS, so random kids cannot flood the issuer): a rotation is picked up without a
    // restart, and a removed key stops verifying once the set is re-read (at the latest after cacheMaxAge).
    // Asymmetric algorithms only.
    const jwks = createRemoteJWKSet(new URL(config.jwtJwksUrl), {
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: 600_000,
      timeoutDuration: 5_000,
    });
    keys.push({ key: jwks, algorithms: ["RS256", "PS256", "ES256", "EdDSA"] });
  }
  const claimChecks: Pick<JWTVerifyOptions, "issuer" | "audience"> = {
    ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
  };
  const compile = patternCache(1000);
  const permissionsOf = (payload: unknown): AuthResult => {
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) return { ok: false, reason: "invalid claims" };
    return {
      ok: true,
      permissions: {
        sub: claims.data.sub,
        expiresAtMs: claims.data.exp * 1000,
        subscribe: compile(claims.data.channels.subscribe),
        publish: compile(claims.data.channels.publish),
      },
    };
  };

  return {
    async verify(token) {
      if (!token) return { ok: false, reason: "missing token" };
      let lastReason = "invalid token";
      if (secret) {
        const hs = verifyHs256(token, secret, Math.floor(Date.now() / 1000), claimChecks);
        if (hs.ok) return permissionsOf(hs.payload);
        // An HS256 token no other key can take (they are asymmetric): its own reason is the answer. With no
        // other key, the loop below does not run and this reason is returned all the same.
        if (!hs.otherAlgorithm) return { ok: false, reason: hs.reason };
        lastReason = hs.reason;
      }
      for (const { key, algorithms } of keys) {
        try {
          // An explicit algorithm list: `alg: none` and algorithm confusion are refused by jose.
          const options = { algorithms, requiredClaims: ["exp"], ...claimChecks };
          // Two overloads of jwtVerify: a key, or a key lookup (the JWKS).
          const { payload } =
            typeof key === "function"
              ? await jwtVerify(token, key, options)
              : await jwtVerify(token, key, options);
          return permissionsOf(payload);
        } catch (err) {
          lastReason =
            err instanceof joseErrors.JWTExpired
              ? "token expired"
              : err instanceof joseErrors.JWTClaimValidationFailed
                ? `claim ${err.claim} invalid: ${err.reason}`
                : err instanceof joseErrors.JOSEAlgNotAllowed
                  ? "algorithm not allowed"
                  : err instanceof joseErrors.JWSSignatureVerificationFailed
                    ? "bad signature"
                    : err instanceof joseErrors.JWKSNoMatchingKey
                      ? "no matching key in the JWKS"
                      : "invalid token";
        }
      }
      return { ok: false, reason: lastReason };
    },
  };
}

/** The token from `Authorization: Bearer x` or `?token=x`. */
export function tokenFrom(authorization: string, queryToken: string): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (m) return m[1];
  return queryToken || undefined;
}
