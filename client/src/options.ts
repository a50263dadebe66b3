// What a client is told: connect()'s options and their defaults.
import type { BackoffPolicy, RandomSource } from "./backoff.js";
import type { Transport } from "./events.js";
import type { SseConstructor, WebSocketConstructor } from "./transport.js";

export interface ConnectOptions {
  /**
   * JWT; a function is called before every connection attempt and, on a live connection, `refreshAheadMs` before
   * the token's `exp` (sent as a `refresh` frame, so the connection stays up).
   */
  token?: string | (() => string | Promise<string>);
  /** `url` (default): `?token=`; `frame`: `?auth=frame` and the token in the first frame, out of URL logs. */
  tokenIn?: "url" | "frame";
  /** How long before the token's expiry a token function is asked for a new one; 0 disables. */
  refreshAheadMs?: number;
  /** A WebSocket constructor; required in Node 20 (e.g. `WebSocket` from the `ws` package). */
  WebSocket?: WebSocketConstructor;
  backoff?: BackoffPolicy;
  /** A connection that stays up this long resets the backoff. */
  stableAfterMs?: number;
  /** How long publish, presence and subscribe wait for their answer. */
  requestTimeoutMs?: number;
  /** Application-level ping so a silently dead socket is noticed; 0 disables. */
  pingIntervalMs?: number;
  /** Publishes held while disconnected; more are rejected with `queue_full`. 0 rejects at once. */
  maxQueuedPublishes?: number;
  /** Frames larger than this are rejected locally (the gateway would close the socket with 1009). */
  maxMessageBytes?: number;
  /** How long a hole in a channel's stream may stay open before it is reported and skipped. */
  gapTimeoutMs?: number;
  random?: RandomSource;
  /**
   * Transports in order of preference. `["websocket", "sse"]`: after `sseAfterFailures` WebSocket attempts in a
   * row that never opened, subscriptions go over SSE (`GET /sse`, receive only: publish and presence reject with
   * `transport`) for the rest of the client's life. `["sse"]`: SSE from the start. Default: WebSocket only.
   * With "sse", pass `SSE` too.
   */
  transports?: Transport[];
  /** The SSE fallback: `SseSocket` from the SDK's sse module (kept out of the core bundle). */
  SSE?: SseConstructor;
  /** How many WebSocket attempts in a row must fail before falling back to SSE. */
  sseAfterFailures?: number;
}

export const CLIENT_DEFAULTS = {
  stableAfterMs: 5_000,
  requestTimeoutMs: 10_000,
  pingIntervalMs: 25_000,
  maxQueuedPublishes: 1_000,
  maxMessageBytes: 65_536,
  gapTimeoutMs: 5_000,
  refreshAheadMs: 30_000,
  sseAfterFailures: 2,
};
