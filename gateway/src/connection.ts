// What the gateway keeps per WebSocket. Kept minimal: most sockets are idle, and this is paid per socket (uWS
// copies these fields onto its WebSocket object, one 8-byte slot each). Measured with a heap snapshot at 10,000
// idle sockets: a Set for the usual single channel cost ~150 B, the id string ~80 B and a Date.now() timestamp a
// 16 B heap number per socket; so one channel is kept as its name, the id is built when asked for, and the open
// time is a small integer V8 stores inline.
import type { Permissions } from "./auth.js";
import type { Buckets } from "./rate-limit.js";

export interface Connection {
  /** This process's count of connections when it opened: with the boot id, its connection id (connectionId). */
  readonly seq: number;
  /** Replaced in place by a `refresh` frame. */
  permissions: Permissions;
  /** Opened with `?auth=frame` and no token yet: only `refresh` and `ping` are accepted. */
  awaitingToken: boolean;
  /** Milliseconds since the process started (monotonic; only compared with other connections' values). */
  readonly openedAt: number;
  /** Channels subscribed (or being subscribed): none, one (its name), or several; see the functions below. */
  channels: string | Set<string> | undefined;
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

/**
 * A client connection as the hub, drains and the server API see it, whatever its transport: uWS's
 * WebSocket<Connection> has this shape, and so does an SSE stream (sse/sse-connection.ts).
 */
export interface Socket {
  getUserData(): Connection;
  /** 0: sent, 1: buffered (backpressure), 2: dropped. */
  send(message: string, isBinary?: boolean, compress?: boolean): number;
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
  getBufferedAmount(): number;
  cork(cb: () => void): unknown;
  /** Close with a code (an SSE stream sends it in a `close` event first). */
  end(code?: number, shortMessage?: string): void;
  close(): void;
}

let counter = 0;
const boot = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;

export function newConnection(permissions: Permissions, awaitingToken = false): Connection {
  counter += 1;
  return {
    seq: counter,
    permissions,
    awaitingToken,
    openedAt: Math.floor(performance.now()),
    channels: undefined,
    presence: undefined,
    buckets: undefined,
    closed: false,
    leaving: false,
    sweep: 0,
  };
}

/** Unique across the fleet: this process's boot id and the connection's sequence number. */
export function connectionId(c: Connection): string {
  return `${boot}-${c.seq.toString(36)}`;
}

export function addChannel(c: Connection, channel: string): void {
  const held = c.channels;
  if (held === undefined) c.channels = channel;
  else if (typeof held === "string") {
    if (held !== channel) c.channels = new Set([held, channel]);
  } else held.add(channel);
}

export function hasChannel(c: Connection, channel: string): boolean {
  const held = c.channels;
  return typeof held === "string" ? held === channel : (held?.has(channel) ?? false);
}

export function removeChannel(c: Connection, channel: string): void {
  const held = c.channels;
  if (held === channel) c.channels = undefined;
  else if (typeof held === "object") {
    held.delete(channel);
    if (held.size === 0) c.channels = undefined;
  }
}

export function channelCount(c: Connection): number {
  const held = c.channels;
  return held === undefined ? 0 : typeof held === "string" ? 1 : held.size;
}

/** A copy: the caller may remove channels while it walks them. */
export function channelsOf(c: Connection): string[] {
  const held = c.channels;
  return held === undefined ? [] : typeof held === "string" ? [held] : [...held];
}
