// The wire protocol: the one home of every frame, error code and close code.
// The gateway, client/ and loadtest/ import this module; nothing re-declares a frame.
// zod/mini, not classic zod: the browser client bundles this file, and mini's functions tree-shake (the client
// keeps only the server-frame schemas: ~27 KB of zod instead of ~450 KB). Same core, same parse semantics.
import * as z from "zod/mini";
import { ZodMiniObject } from "zod/mini";
import { $constructor, $ZodObjectJIT, config, globalConfig } from "zod/v4/core";
import en from "zod/v4/locales/en.js";

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
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.Policy, CloseCode.TooBig]);

export const ErrorCode = {
  Forbidden: "forbidden",
  BadRequest: "bad_request",
  RateLimited: "rate_limited",
  NotFound: "not_found",
  Unavailable: "unavailable",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

// ---- Channel names -------------------------------------------------------------------------------

export const MAX_CHANNEL_LENGTH = 200;
/** Letters, digits and `_ - : . @ / =`; `$` starts names the gateway reserves for itself; `*` only in patterns. */
const CHANNEL_RE = /^[A-Za-z0-9_\-:.@/=]+$/;

/**
 * `pure(() => schema)` is that schema, built in a call a bundler may drop when nothing uses it. esbuild does not
 * carry zod's own no-side-effects marks across modules, so without it the browser client would ship the channel
 * and client-frame schemas (and zod's object JIT) that only the gateway parses.
 */
/* @__NO_SIDE_EFFECTS__ */
function pure<T>(build: () => T): T {
  return build();
}

export const channelName = pure(() =>
  z
    .string()
    .check(
      z.minLength(1, "channel must not be empty"),
      z.maxLength(MAX_CHANNEL_LENGTH, `channel must be at most ${MAX_CHANNEL_LENGTH} characters`),
      z.regex(CHANNEL_RE, "channel may contain only letters, digits and _ - : . @ / ="),
    ),
);

export function isValidChannel(name: string): boolean {
  return name.length > 0 && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_RE.test(name);
}

// ---- Client → server frames ----------------------------------------------------------------------

/**
 * A strict object on zod's JIT-compiled object parser, the one classic `z.object` uses: zod/mini leaves it out to
 * stay small, but the gateway decodes every client frame on its hot path, where it is ~25% faster. Same parse
 * semantics and issues as `z.strictObject`; browsers never bundle it (the client parses only server frames).
 */
const ZodMiniObjectJIT: $constructor<ZodMiniObject> = /* @__PURE__ */ $constructor(
  "ZodMiniObjectJIT",
  (inst, def) => {
    $ZodObjectJIT.init(inst, def);
    ZodMiniObject.init(inst, def);
  },
);
/* @__NO_SIDE_EFFECTS__ */
function strictFrame<T extends z.core.$ZodLooseShape>(shape: T): ReturnType<typeof z.strictObject<T>> {
  return new ZodMiniObjectJIT({ type: "object", shape, catchall: z.never() }) as ReturnType<
    typeof z.strictObject<T>
  >;
}

const frameId = z.number().check(z.int(), z.nonnegative(), z.maximum(Number.MAX_SAFE_INTEGER));
const offset = z.number().check(z.int(), z.nonnegative(), z.maximum(Number.MAX_SAFE_INTEGER));

export const subscribeFrame = pure(() =>
  strictFrame({
    type: z.literal("subscribe"),
    id: frameId,
    channel: channelName,
    /** Last offset the client saw on this channel: replay what followed it. */
    since: z.optional(offset),
    /** Epoch the `since` offset belongs to (from an earlier ack); a different epoch means history was lost. */
    epoch: z.optional(z.string().check(z.maxLength(64))),
    /** Also send join/leave frames for this channel. */
    presence: z.optional(z.boolean()),
  }),
);
export const unsubscribeFrame = pure(() =>
  strictFrame({
    type: z.literal("unsubscribe"),
    id: frameId,
    channel: channelName,
  }),
);
export const publishFrame = pure(() =>
  strictFrame({
    type: z.literal("publish"),
    id: frameId,
    channel: channelName,
    data: z.json(),
  }),
);
export const pingFrame = pure(() => strictFrame({ type: z.literal("ping"), id: frameId }));
export const presenceFrame = pure(() =>
  strictFrame({
    type: z.literal("presence"),
    id: frameId,
    channel: channelName,
  }),
);

/** Replace the connection's token in place (new expiry and rights); also the first frame after `?auth=frame`. */
export const refreshFrame = pure(() =>
  strictFrame({
    type: z.literal("refresh"),
    id: frameId,
    token: z.string().check(z.minLength(1), z.maxLength(8192)),
  }),
);

export const clientFrame = pure(() =>
  z.discriminatedUnion("type", [
    subscribeFrame,
    unsubscribeFrame,
    publishFrame,
    pingFrame,
    presenceFrame,
    refreshFrame,
  ]),
);
export type ClientFrame = z.infer<typeof clientFrame>;
export type SubscribeFrame = z.infer<typeof subscribeFrame>;
export type PublishFrame = z.infer<typeof publishFrame>;

export type DecodeResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; id: number | undefined; message: string };

/** Parse one client text frame. Never throws: a bad frame yields a message fit for a `bad_request` error. */
export function decodeClientFrame(text: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, id: undefined, message: "frame is not valid JSON" };
  }
  const parsed = clientFrame.safeParse(raw);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const id = typeof raw === "object" && raw !== null && "id" in raw ? (raw as { id: unknown }).id : undefined;
  // English issue messages, as classic zod installs them: zod/mini installs no locale (its messages would all read
  // "Invalid input"). Here, not per parse: an error map passed to safeParse halves the valid-frame rate.
  if (!globalConfig.localeError) config(en());
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return {
    ok: false,
    id: typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined,
    message: `${where}${issue?.message ?? "invalid frame"}`,
  };
}

// ---- Server → client frames ----------------------------------------------------------------------

export const presenceMember = z.object({
  connectionId: z.string(),
  sub: z.optional(z.string()),
  node: z.string(),
});
export type PresenceMember = z.infer<typeof presenceMember>;

export const welcomeFrame = z.object({
  type: z.literal("welcome"),
  connectionId: z.string(),
  node: z.string(),
});
export const ackFrame = z.object({
  type: z.literal("ack"),
  id: frameId,
  /** publish: the message's offset; subscribe: the channel's latest offset when the subscription began. */
  offset: z.optional(offset),
  epoch: z.optional(z.string()),
  /** subscribe with `since`: whether history reached back (and the epoch matched). */
  recovered: z.optional(z.boolean()),
  /** presence: who is subscribed, across pods. */
  members: z.optional(z.array(presenceMember)),
});
export const errorFrame = z.object({
  type: z.literal("error"),
  id: z.optional(frameId),
  code: z.enum(["forbidden", "bad_request", "rate_limited", "not_found", "unavailable"]),
  message: z.string(),
  /** Set when the error ended a subscription (e.g. a refreshed token no longer allows the channel). */
  channel: z.optional(z.string()),
});
export const messageFrame = z.object({
  type: z.literal("message"),
  channel: z.string(),
  offset,
  data: z.json(),
});
export const pongFrame = z.object({ type: z.literal("pong"), id: frameId });
export const reconnectFrame = z.object({
  type: z.literal("reconnect"),
  afterMs: z.number().check(z.int(), z.nonnegative()),
  reason: z.string(),
});
/**
 * The channel's stream has a hole the gateway could not fill (e.g. the broker lost history while it was down).
 * The stream continues from `offset`; the client should refetch from its own source of truth.
 */
export const resyncFrame = z.object({
  type: z.literal("resync"),
  channel: z.string(),
  epoch: z.string(),
  offset,
  recovered: z.literal(false),
});
export const joinFrame = z.object({ type: z.literal("join"), channel: z.string(), member: presenceMember });
export const leaveFrame = z.object({ type: z.literal("leave"), channel: z.string(), member: presenceMember });

export const serverFrame = z.discriminatedUnion("type", [
  welcomeFrame,
  ackFrame,
  errorFrame,
  messageFrame,
  pongFrame,
  reconnectFrame,
  resyncFrame,
  joinFrame,
  leaveFrame,
]);
export type ServerFrame = z.infer<typeof serverFrame>;
export type MessageFrame = z.infer<typeof messageFrame>;
export type AckFrame = z.infer<typeof ackFrame>;

/** One server text frame: a single frame, or a JSON array of `message` frames (a batch). */
export const serverPayload = z.union([serverFrame, z.array(messageFrame)]);

/**
 * Parse one server text frame into a list of frames (a batch is flattened). Throws on a malformed frame; its issue
 * messages follow the process's zod locale (none in a browser app that sets none: the client ships no locale).
 */
export function decodeServerFrames(text: string): ServerFrame[] {
  const parsed = serverPayload.parse(JSON.parse(text));
  return Array.isArray(parsed) ? parsed : [parsed];
}

// Encoders. `data` travels as already-serialized JSON text so fan-out never re-serializes it.

export function encodeMessage(channel: string, offset: number, dataJson: string): string {
  return `{"type":"message","channel":${JSON.stringify(channel)},"offset":${offset},"data":${dataJson}}`;
}

/** Several messages for one socket in one frame: a JSON array of message frames. */
export function encodeMessageBatch(encodedMessages: readonly string[]): string {
  return encodedMessages.length === 1 ? (encodedMessages[0] as string) : `[${encodedMessages.join(",")}]`;
}

export function encodeFrame(frame: ServerFrame | ClientFrame): string {
  return JSON.stringify(frame);
}

export function encodeError(
  id: number | undefined,
  code: ErrorCode,
  message: string,
  channel?: string,
): string {
  return JSON.stringify({
    type: "error",
    ...(id === undefined ? {} : { id }),
    code,
    message,
    ...(channel === undefined ? {} : { channel }),
  });
}
