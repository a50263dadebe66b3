// WebSocket close codes the gateway sends, named in one place (never a bare number), with what a client does on each.

/** WebSocket close codes the gateway sends, and what a client should do on each. */
export const CloseCode = {
  /** Normal closure (client or server said goodbye). */
  Normal: 1000,
  /** Server going away without a drain notice (process exit). Reconnect with backoff. */
  GoingAway: 1001,
  /** Auth failed, token expired, permission abuse, or rate-limit abuse. Terminal: do not reconnect blindly. */
  Policy: 1008,
  /** A frame larger than RTGW_MAX_MESSAGE_BYTES. */
  TooBig: 1009,
  /** Drain or shed: a `reconnect` frame came first; reconnect after its `afterMs`. */
  ServiceRestart: 1012,
  /** Gateway full. Reconnect with backoff (another pod will take it). */
  TryAgainLater: 1013,
  /** Send buffer passed its bound: the socket could not keep up. Reconnect and resume with `since`. */
  SlowConsumer: 4001,
  /** The connection's token expired: reconnect with a fresh token (or send `refresh` before expiry). */
  TokenExpired: 4003,
  /** Disconnected by the server API (`POST /api/disconnect`): terminal, the application decided; do not reconnect. */
  Disconnected: 4002,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client reconnects (with `since`); anything not here and not Policy also reconnects with backoff. */
export const RECONNECT_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.GoingAway,
  CloseCode.ServiceRestart,
  CloseCode.TryAgainLater,
  CloseCode.SlowConsumer,
  CloseCode.TokenExpired,
]);
/** Close codes after which a client must not reconnect on its own. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.Policy,
  CloseCode.TooBig,
  CloseCode.Disconnected,
]);
