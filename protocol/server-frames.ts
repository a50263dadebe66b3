// Server → client frames: the schemas the SDK parses every frame with, and the gateway's encoders. `data` travels
// as already-serialized JSON text so fan-out never re-serializes it.
import * as z from "zod/mini";
import type { ClientFrame } from "./client-frames.js";
import { FRAME_ERROR_CODES, type FrameErrorCode } from "./error-codes.js";
import { frameId, offset } from "./fields.js";
import { fastMessages } from "./message-fast-path.js";

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
  code: z.enum(FRAME_ERROR_CODES),
  message: z.string(),
  /** Set when the error ended a subscription (e.g. a refreshed token no longer allows the channel). */
  channel: z.optional(z.string()),
});
export const messageFrame = z.object({
  type: z.literal("message"),
  channel: z.string(),
  offset,
  data: z.json(),
  /**
   * Set on the first message of an epoch after a change (a `resync` frame came just before it); a message without
   * it belongs to the epoch the client last learnt (ack, resync or an earlier mark). Offsets of two epochs are not
   * comparable: a client must never order one epoch's messages against another's.
   */
  epoch: z.optional(z.string()),
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
/**
 * The server ended one subscription (the server API's `unsubscribe`): no more messages on `channel` for this
 * connection, and the client must not subscribe it again on its own.
 */
export const unsubscribedFrame = z.object({
  type: z.literal("unsubscribed"),
  channel: z.string(),
  reason: z.string(),
});
/**
 * The server subscribed this connection to a channel itself (the connect hook's `channels`): its messages follow
 * as usual `message` frames, from `offset` on. The client did not ask and does not resubscribe it on reconnect.
 */
export const subscribedFrame = z.object({
  type: z.literal("subscribed"),
  channel: z.string(),
  offset,
  epoch: z.string(),
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
  unsubscribedFrame,
  subscribedFrame,
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
  const value: unknown = JSON.parse(text);
  // A batch is flattened: [frame] or [[...frames]] alike become the frames.
  return fastMessages(value) ?? [serverPayload.parse(value)].flat();
}

/** A message frame; `epoch` only on the first message of an epoch after a change (see messageFrame). */
export function encodeMessage(channel: string, offset: number, dataJson: string, epoch?: string): string {
  const mark = epoch === undefined ? "" : `,"epoch":${JSON.stringify(epoch)}`;
  return `{"type":"message","channel":${JSON.stringify(channel)},"offset":${offset}${mark},"data":${dataJson}}`;
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
  code: FrameErrorCode,
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
