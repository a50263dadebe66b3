// What the admin view asks of the fleet, behind one interface, answered by the server API's methods (the same
// functions POST /api/info, /api/channels, ... run with RTGW_API_KEY), so the view and the API never disagree.
import type { z } from "zod";
import type { NodeInfo } from "../../../protocol/server-api.js";
import type { MethodContext } from "../api/methods.js";
import * as methods from "../api/methods.js";
import type { PresenceEntry } from "../broker/broker.js";

/** The answer shapes are those of issue 15's server API. */
export interface AdminOps {
  info(): Promise<{ nodes: NodeInfo[] }>;
  /** Active channels with subscriber counts across the fleet; `pattern`: a channel, or a prefix ending in `*`. */
  channels(pattern?: string): Promise<{ channels: { channel: string; subscribers: number }[] }>;
  /** The newest `limit` messages of the channel's history, oldest first. */
  history(
    channel: string,
    limit: number,
  ): Promise<{ messages: { offset: number; data: unknown }[]; offset: number; epoch: string }>;
  presence(channel: string): Promise<{ members: PresenceEntry[] }>;
  publish(channel: string, data: z.core.util.JSONType): Promise<{ offset: number; epoch: string }>;
  /** Close every connection of the user (the token's `sub`) on every node; answers how many nodes got the order. */
  disconnect(user: string): Promise<{ nodes: number }>;
}

/** The fleet's answers: the server API's own methods (node registry, control channel), so both say the same. */
export function fleetAdminOps(c: MethodContext): AdminOps {
  return {
    info: () => methods.info({}, c),
    channels: (pattern) => methods.channels(pattern === undefined ? {} : { pattern }, c),
    history: (channel, limit) => methods.history({ channel, limit }, c),
    presence: (channel) => methods.presence({ channel }, c),
    publish: (channel, data) => methods.publish({ channel, data }, c),
    disconnect: (user) => methods.disconnect({ user }, c),
  };
}
