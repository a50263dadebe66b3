// Every failure the SDK reports is an RtgwError with a code: the gateway's own error codes pass through
// unchanged (source "server"); the rest are the SDK's (source "client").
import type { FrameErrorCode } from "../../protocol/index.js";

export type ClientErrorCode =
  /** No answer within requestTimeoutMs (a publish that timed out after it was sent may still have landed). */
  | "timeout"
  /** The socket dropped while the request was in flight: its outcome is unknown. */
  | "disconnected"
  /** client.close() was called, or the connection ended for good. */
  | "closed"
  /** Too many publishes queued while disconnected. */
  | "queue_full"
  /** The gateway closed with a terminal code (1008 policy/auth, 1009 too big): the client will not reconnect. */
  | "terminal_close"
  /** The server API ended a subscription (`unsubscribed` frame; `details.channel` names it): it is not renewed. */
  | "unsubscribed"
  /** The gateway sent a frame the protocol does not allow. */
  | "protocol"
  /** The `token` function threw or rejected; the client retries with backoff. */
  | "token"
  /** An application handler threw. */
  | "handler"
  /** Not possible on the current transport: over SSE (one-way) there is no publish, presence or refresh. */
  | "transport";

export type RtgwErrorCode = FrameErrorCode | ClientErrorCode;

export class RtgwError extends Error {
  override name = "RtgwError";

  constructor(
    readonly code: RtgwErrorCode,
    message: string,
    readonly source: "server" | "client",
    readonly details: { channel?: string; closeCode?: number; cause?: unknown } = {},
  ) {
    super(message);
  }
}
