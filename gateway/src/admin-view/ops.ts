// What the admin view asks of the fleet, behind one interface, and this node's answers to it. The server API
// (POST /api/info, /api/channels, ... with RTGW_API_KEY) answers the same questions fleet-wide; the view takes
// whichever AdminOps it is given, so pointing it at those functions changes no route and no page code.
import { CloseCode } from "../../../protocol/index.js";
import { socketsOf } from "../api/fleet-control.js";
import type { Broker, PresenceEntry } from "../broker/broker.js";
import { channelsOf, type Socket } from "../connection.js";
import * as metrics from "../metrics.js";

export interface NodeInfo {
  node: string;
  connections: number;
  channels: number;
  uptimeSeconds: number;
  version: string;
}

/** The answer shapes are those of issue 15's server API. */
export interface AdminOps {
  info(): Promise<{ nodes: NodeInfo[] }>;
  /** Active channels with subscriber counts; `pattern` keeps those containing it (a plain substring). */
  channels(pattern?: string): Promise<{ channels: { channel: string; subscribers: number }[] }>;
  /** The newest `limit` messages of the channel's history, oldest first. */
  history(
    channel: string,
    limit: number,
  ): Promise<{ messages: { offset: number; data: unknown }[]; offset: number; epoch: string }>;
  presence(channel: string): Promise<{ members: PresenceEntry[] }>;
  publish(channel: string, data: unknown): Promise<{ offset: number; epoch: string }>;
  /** Close every connection of the user (the token's `sub`); answers how many were closed. */
  disconnect(user: string): Promise<{ disconnected: number }>;
}

export interface LocalOpsDeps {
  nodeId: string;
  version: string;
  broker: Broker;
  sockets: () => Iterable<Socket>;
  channelCount: () => number;
  /** process.uptime by default. */
  uptimeSeconds?: () => number;
}

/** This node's view of the fleet: itself only. Channels, history, presence and publish go through the broker. */
export function localAdminOps(d: LocalOpsDeps): AdminOps {
  const uptime = d.uptimeSeconds ?? process.uptime;
  return {
    async info() {
      let connections = 0;
      for (const _ of d.sockets()) connections += 1;
      return {
        nodes: [
          {
            node: d.nodeId,
            connections,
            channels: d.channelCount(),
            uptimeSeconds: Math.floor(uptime()),
            version: d.version,
          },
        ],
      };
    },
    async channels(pattern) {
      const counts = new Map<string, number>();
      for (const ws of d.sockets())
        for (const channel of channelsOf(ws.getUserData()))
          counts.set(channel, (counts.get(channel) ?? 0) + 1);
      const channels = [...counts]
        .filter(([channel]) => pattern === undefined || channel.includes(pattern))
        .map(([channel, subscribers]) => ({ channel, subscribers }))
        .sort((a, b) => b.subscribers - a.subscribers || a.channel.localeCompare(b.channel));
      return { channels };
    },
    async history(channel, limit) {
      const h = await d.broker.history(channel, 0);
      const messages = h.messages.slice(-limit).map((m) => ({ offset: m.offset, data: JSON.parse(m.data) }));
      return { messages, offset: h.offset, epoch: h.epoch };
    },
    async presence(channel) {
      return { members: await d.broker.presenceList(channel) };
    },
    async publish(channel, data) {
      const position = await d.broker.publish(channel, JSON.stringify(data));
      metrics.messagesReceived.inc();
      return { offset: position.offset, epoch: position.epoch };
    },
    async disconnect(user) {
      const picked = socketsOf(d.sockets(), user);
      // Disconnected (4002, terminal), as the server API's disconnect: the SDK does not reconnect on its own.
      for (const ws of picked) ws.end(CloseCode.Disconnected, "disconnected by an administrator");
      return { disconnected: picked.length };
    },
  };
}
