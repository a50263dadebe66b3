// The server API's wire shapes (`POST /api/<method>` on the client port, bearer RTGW_API_KEY): every request body
// and every answer, so the gateway, the SDK and tools share one definition. Classic zod: only servers and tools
// import this module (protocol/index.ts does not re-export it), so the browser client never bundles it.
import { z } from "zod";
import { CHANNEL_RE, MAX_CHANNEL_LENGTH } from "./channels.js";

/** Bounds on one request: a request past them is a 400 naming the field. */
export const API_LIMITS = {
  /** Channels in one `broadcast`. */
  broadcastChannels: 100,
  /** Messages in one `history` answer (and its default). */
  historyLimit: 1000,
  /** Channels in one `channels` answer: the busiest first when more match. */
  channels: 10_000,
  /** Length of a user id (the JWT `sub`). */
  userLength: 256,
} as const;

const channel = z
  .string()
  .min(1, "channel must not be empty")
  .max(MAX_CHANNEL_LENGTH, `channel must be at most ${MAX_CHANNEL_LENGTH} characters`)
  .regex(CHANNEL_RE, "channel may contain only letters, digits and _ - : . @ / =");
const offset = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const user = z.string().min(1, "user must not be empty").max(API_LIMITS.userLength);

export const publishRequest = z.strictObject({ channel, data: z.json() });
export const publishResponse = z.object({ offset, epoch: z.string() });

export const broadcastRequest = z.strictObject({
  channels: z
    .array(channel)
    .min(1, "channels must name at least one channel")
    .max(API_LIMITS.broadcastChannels, `at most ${API_LIMITS.broadcastChannels} channels per broadcast`)
    .refine((list) => new Set(list).size === list.length, "channels must not repeat a channel"),
  data: z.json(),
});
/** One entry per requested channel, in request order: its offset, or why that one publish failed. */
export const broadcastResult = z.union([
  z.object({ channel: z.string(), offset, epoch: z.string() }),
  z.object({ channel: z.string(), error: z.string(), message: z.string() }),
]);
export const broadcastResponse = z.object({ results: z.array(broadcastResult) });

export const historyRequest = z.strictObject({
  channel,
  /** Only messages after this offset; without it, the latest `limit` messages. */
  since: offset.optional(),
  limit: z.number().int().min(1).max(API_LIMITS.historyLimit).optional(),
});
export const historyResponse = z.object({
  messages: z.array(z.object({ offset, data: z.json() })),
  /** The channel's latest offset, and the epoch the offsets belong to. */
  offset,
  epoch: z.string(),
});

export const presenceRequest = z.strictObject({ channel });
export const presenceResponse = z.object({
  members: z.array(z.object({ connectionId: z.string(), sub: z.string().optional(), node: z.string() })),
});
export const presenceStatsRequest = presenceRequest;
/** Connections subscribed to the channel (any pod), and the distinct users (JWT `sub`) among them. */
export const presenceStatsResponse = z.object({ clients: z.number().int(), users: z.number().int() });

export const unsubscribeRequest = z.strictObject({ user, channel });
export const disconnectRequest = z.strictObject({ user });
/** Fleet actions are sent to every node; `nodes` is how many received the order (every live one). */
export const fleetActionResponse = z.object({ nodes: z.number().int() });

export const channelsRequest = z.strictObject({
  /** An exact channel name or a prefix ending in `*` (as the JWT `channels` claim); none: every channel. */
  pattern: z.string().min(1).max(MAX_CHANNEL_LENGTH).optional(),
});
export const channelsResponse = z.object({
  channels: z.array(z.object({ channel: z.string(), subscribers: z.number().int() })),
});

export const infoRequest = z.strictObject({});
export const nodeInfo = z.object({
  node: z.string(),
  version: z.string(),
  uptimeSeconds: z.number(),
  connections: z.number().int(),
  /** Channels with at least one local subscriber. */
  channels: z.number().int(),
});
export const infoResponse = z.object({ nodes: z.array(nodeInfo) });

export type BroadcastResult = z.infer<typeof broadcastResult>;
export type HistoryResponse = z.infer<typeof historyResponse>;
export type ChannelsResponse = z.infer<typeof channelsResponse>;
export type NodeInfo = z.infer<typeof nodeInfo>;
