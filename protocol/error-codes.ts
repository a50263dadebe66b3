// Every error code the gateway answers with, in one list: those of WebSocket `error` frames and those of the HTTP
// API and upgrade rejects (`{"error": code, "message": ...}`). The error frame's schema is derived from it.

export const ErrorCode = {
  Forbidden: "forbidden",
  BadRequest: "bad_request",
  RateLimited: "rate_limited",
  NotFound: "not_found",
  Unavailable: "unavailable",
  /** HTTP only: wrong or missing bearer API key, or a refused token at the upgrade (401). */
  Unauthorized: "unauthorized",
  /** HTTP only: a request body over its limit (413). */
  TooLarge: "too_large",
  /** HTTP only: the upgrade was refused because this gateway is draining (503). */
  Draining: "draining",
  /** HTTP only: the upgrade was refused because this gateway is at RTGW_MAX_CONNECTIONS (503). */
  Full: "full",
  /** HTTP only: the upgrade's Origin is not in RTGW_ALLOWED_ORIGINS (403). */
  Origin: "origin",
  /** HTTP only: the server API failed in a way the caller cannot fix (500); the gateway logs it. */
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The codes an `error` frame on the WebSocket carries (the rest answer HTTP requests only). */
export const FRAME_ERROR_CODES = [
  ErrorCode.Forbidden,
  ErrorCode.BadRequest,
  ErrorCode.RateLimited,
  ErrorCode.NotFound,
  ErrorCode.Unavailable,
] as const;
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

/**
 * Refusals a retry cannot change (the same request gets the same answer): a client gives up on them. The other
 * frame codes (`unavailable`, `rate_limited`, `not_found`) may pass later, so a subscription is retried.
 */
export const TERMINAL_ERROR_CODES: ReadonlySet<string> = new Set<FrameErrorCode>([
  ErrorCode.Forbidden,
  ErrorCode.BadRequest,
]);
