// What the gateway keeps per WebSocket. Kept minimal: most sockets are idle, and this is paid per socket.
import type { WebSocket } from "uWebSockets.js";
import type { Permissions } from "./auth.js";
import type { Buckets } from "./rate-limit.js";

export interface Connection {
  readonly id: string;
  /** Replaced in place by a `refresh` frame. */
  permissions: Permissions;
  /** Opened with `?auth=frame` and no token yet: only `refresh` and `ping` are accepted. */
  awaitingToken: boolean;
  readonly openedAt: number;
  /** Channels subscribed (or being subscribed); created on first subscribe. */
  channels: Set<string> | undefined;
  /** Channels where this socket is a presence member (subscribed with presence on); created on the first. */
  presence: Set<string> | undefined;
  /** A token bucket per rate-limited operation; created on the first such operation. */
  buckets: Buckets | undefined;
  /** Set by the close handler: async work that finishes later must not touch the socket. */
  closed: boolean;
  /** Picked by a drain or shed: it will be closed with 1012. */
  leaving: boolean;
  /** The last slow-consumer sweep that read its send buffer (see slow-consumers.ts). */
  sweep: number;
}

export type Socket = WebSocket<Connection>;

let counter = 0;
const boot = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;

export function newConnection(permissions: Permissions, now: number, awaitingToken = false): Connection {
  counter += 1;
  return {
    id: `${boot}-${counter.toString(36)}`,
    permissions,
    awaitingToken,
    openedAt: now,
    channels: undefined,
    presence: undefined,
    buckets: undefined,
    closed: false,
    leaving: false,
    sweep: 0,
  };
}
