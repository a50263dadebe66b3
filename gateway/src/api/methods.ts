// The server API's methods: each takes its parsed request and answers the shape protocol/server-api.ts names.
// Broker failures propagate (routes.ts maps BrokerUnavailableError to 503, RequestRefused to 400); no method
// touches HTTP. Each channel is checked against its namespace first (namespaces/rules.ts serverVerdict).

import type { z } from "zod";
import { ErrorCode } from "../../../protocol/index.js";
import {
  API_LIMITS,
  type BroadcastResult,
  type broadcastRequest,
  type ChannelsResponse,
  type channelsRequest,
  type disconnectRequest,
  type HistoryResponse,
  type historyRequest,
  type presenceRequest,
  type publishRequest,
  type unsubscribeRequest,
} from "../../../protocol/server-api.js";
import { type Broker, BrokerUnavailableError, type NodeReport } from "../broker/broker.js";
import type { Namespaces, ResolvedNamespace } from "../namespaces/namespaces.js";
import { type ServerCall, serverVerdict } from "../namespaces/rules.js";
import { fleetChannels, nodeInfo, withLive } from "./node-registry.js";

/** A request its channel's namespace refuses (undeclared, or presence off): a 400 the caller can fix. */
export class RequestRefused extends Error {
  override name = "RequestRefused";
  readonly code = ErrorCode.BadRequest;
}

export interface MethodContext {
  broker: Broker;
  /** Each channel's namespace (RTGW_CONFIG). */
  namespaces: Namespaces;
  /** This node's live figures (what its next heartbeat will say). */
  live: () => NodeReport;
  now: () => number;
  /** Counts a message accepted by this node (publish, broadcast). */
  published: (count: number) => void;
}

type In<S extends z.ZodType> = z.output<S>;

/** The channel's namespace, or RequestRefused saying why the server API may not do `call` there. */
function allowed(channel: string, call: ServerCall, c: MethodContext): ResolvedNamespace {
  const verdict = serverVerdict(c.namespaces.of(channel), channel, call);
  if (!verdict.ok) throw new RequestRefused(verdict.message);
  return verdict.namespace;
}

/** The server API publishes whatever the namespace's `publish` says: `server` keeps clients out, not the API. */
export async function publish(body: In<typeof publishRequest>, c: MethodContext) {
  allowed(body.channel, "publish", c);
  const position = await c.broker.publish(body.channel, JSON.stringify(body.data));
  c.published(1);
  return { offset: position.offset, epoch: position.epoch };
}

/**
 * One publish per channel, all at once; one channel's failure does not fail the others. A channel its namespace
 * refuses fails the whole request before anything is published (the request is wrong, not the moment).
 */
export async function broadcast(body: In<typeof broadcastRequest>, c: MethodContext) {
  for (const channel of body.channels) allowed(channel, "publish", c);
  const data = JSON.stringify(body.data);
  const results = await Promise.all(
    body.channels.map(async (channel): Promise<BroadcastResult> => {
      try {
        const { offset, epoch } = await c.broker.publish(channel, data);
        return { channel, offset, epoch };
      } catch (err) {
        const unavailable = err instanceof BrokerUnavailableError;
        return {
          channel,
          error: unavailable ? ErrorCode.Unavailable : ErrorCode.Internal,
          message: unavailable ? "the broker is unavailable" : "publish failed",
        };
      }
    }),
  );
  c.published(results.filter((r) => "offset" in r).length);
  return { results };
}

/** After `since`: the oldest `limit` after it (page forward); without it: the latest `limit`. */
export async function history(body: In<typeof historyRequest>, c: MethodContext): Promise<HistoryResponse> {
  const limit = body.limit ?? API_LIMITS.historyLimit;
  if (allowed(body.channel, "history", c).historySize === 0) {
    // Nothing kept: say where the channel is (a stream left from an earlier, larger size is not history now).
    const { offset, epoch } = await c.broker.position(body.channel);
    return { messages: [], offset, epoch };
  }
  const h = await c.broker.history(body.channel, body.since ?? 0);
  const picked = body.since === undefined ? h.messages.slice(-limit) : h.messages.slice(0, limit);
  return {
    messages: picked.map((m) => ({ offset: m.offset, data: JSON.parse(m.data) })),
    offset: h.offset,
    epoch: h.epoch,
  };
}

export async function presence(body: In<typeof presenceRequest>, c: MethodContext) {
  allowed(body.channel, "presence", c);
  return { members: await c.broker.presenceList(body.channel) };
}

export async function presenceStats(body: In<typeof presenceRequest>, c: MethodContext) {
  allowed(body.channel, "presence", c);
  const members = await c.broker.presenceList(body.channel);
  const users = new Set<string>();
  for (const m of members) if (m.sub !== undefined) users.add(m.sub);
  return { clients: members.length, users: users.size };
}

export async function unsubscribe(body: In<typeof unsubscribeRequest>, c: MethodContext) {
  return {
    nodes: await c.broker.sendControl({ kind: "unsubscribe", user: body.user, channel: body.channel }),
  };
}

export async function disconnect(body: In<typeof disconnectRequest>, c: MethodContext) {
  return { nodes: await c.broker.sendControl({ kind: "disconnect", user: body.user }) };
}

export async function channels(
  body: In<typeof channelsRequest>,
  c: MethodContext,
): Promise<ChannelsResponse> {
  const reports = withLive(await c.broker.nodes(), c.live());
  return { channels: fleetChannels(reports, body.pattern, API_LIMITS.channels) };
}

export async function info(_body: unknown, c: MethodContext) {
  const now = c.now();
  return { nodes: withLive(await c.broker.nodes(), c.live()).map((r) => nodeInfo(r, now)) };
}
