// @ts-check
// Shared by the k6 scripts. k6 runs scripts in its own JavaScript runtime and cannot load the gateway's
// TypeScript protocol module, so the few frames used here are written out as DESIGN.md documents them
// (subscribe with `since`, message, ack, reconnect); loadtest/test/k6-scripts.test.ts checks them against
// protocol/index.ts.

/** @param {string} name @param {string} fallback */
export function env(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === "" ? fallback : value;
}

/** @param {string} name @param {number} fallback */
export function envNumber(name, fallback) {
  const value = Number(env(name, String(fallback)));
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number`);
  return value;
}

/** The gateway URL with the token as a query parameter (k6 also supports an Authorization header). */
export function wsUrl() {
  const target = env("TARGET", "ws://realtime-gateway.default.svc/ws");
  const token = env("TOKEN", "");
  return token ? `${target}${target.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : target;
}

/** @param {number} id @param {string} channel @param {number | undefined} since */
export function subscribeFrame(id, channel, since) {
  return JSON.stringify(
    since === undefined ? { type: "subscribe", id, channel } : { type: "subscribe", id, channel, since },
  );
}

/**
 * Server frames in one WebSocket message: a single frame, or a JSON array of `message` frames (a batch).
 * @param {unknown} data
 * @returns {Array<{ type: string, id?: number, channel?: string, offset?: number, afterMs?: number, data?: any }>}
 */
export function serverFrames(data) {
  if (typeof data !== "string") return [];
  const parsed = JSON.parse(data);
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** A channel for the n-th socket, spread over CHANNELS channels. @param {number} n */
export function channelFor(n) {
  return `${env("CHANNEL_PREFIX", "load:")}${n % envNumber("CHANNELS", 100)}`;
}
