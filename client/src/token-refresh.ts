// When to refresh a connection's token: read (not verify: the gateway does that) the JWT's `exp` and pick a
// moment ahead of it, so a long-lived connection swaps tokens in place instead of being closed with 4003.

/** The token's `exp` in ms since the epoch; undefined when it is no JWT or carries no numeric `exp`. */
export function tokenExpiryMs(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), "=")));
    return typeof json?.exp === "number" && Number.isFinite(json.exp) ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long to wait before refreshing: `aheadMs` before expiry, but never later than half the remaining lifetime
 * (a short-lived token still gets refreshed in time), and never sooner than `minMs` (no busy loop on a token that
 * is already about to expire). Undefined: nothing to schedule.
 */
export function refreshDelayMs(
  expiresAtMs: number | undefined,
  nowMs: number,
  aheadMs: number,
  minMs = 1000,
): number | undefined {
  if (expiresAtMs === undefined || aheadMs <= 0) return undefined;
  const remaining = expiresAtMs - nowMs;
  if (remaining <= 0) return undefined;
  return Math.max(minMs, remaining - Math.min(aheadMs, remaining / 2));
}
