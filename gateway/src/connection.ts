// What the gateway keeps per WebSocket. Kept minimal: most sockets are idle, and this is paid per socket (uWS
// copies these fields onto its WebSocket object, into a property array grown 3 slots of 8 bytes at a time).
// Measured with heap snapshots at 10,000 idle sockets: a Set for the usual single channel cost ~150 B, the id
// string ~80 B and a Date.now() timestamp a 16 B heap number per socket; so one channel is kept as its name, the
// id is built when asked for, the open order is the sequence number, rate limits live in rate-limiter.ts only
// while a connection uses them, and rarely used state is one lazily created `extra` object: 6 fields, 64 B.
import type { Permissions } from "./auth.js";

export interface Connection {
  /**
   * This process's count of connections when it opened: with the boot id, its connection id (connectionId); also
   * their open order (shed picks the newest).
   */
  readonly seq: number;
  /** Replaced in place by a `refresh` frame. */
  permissions: Permissions;
  /**
   * Opened with `?auth=frame` and no token yet: only `refresh` and `ping` are accepted. A field only on such
   * connections (the others are one field smaller).
   */
  awaitingToken?: boolean;
  /** Channels subscribed (or being subscribed): none, one (its name), or several; see the functions below. */
  channels: string | Set<string> | undefined;
  /** Set by the close handler: async work that finishes later must not touch the socket. */
  closed: boolean;
  /** The last slow-consumer sweep that read its send buffer (see slow-consumers.ts). */
  sweep: number;
  /** What few connections need, created on first use: see the functions below. */
  extra: Extra | undefined;
}

/** A connection's rarely used state, kept out of its fields (each one costs every socket 8 bytes). */
interface Extra {
  /** Channels where this socket is a presence member (subscribed with presence on). */
  presence: Set<string> | undefined;
  /** Picked by a drain or shed: it will be closed with 1012. */
  leaving: boolean;
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
  const seq = counter;
  if (awaitingToken)
    return {
      seq,
      permissions,
      awaitingToken,
      channels: undefined,
      closed: false,
      sweep: 0,
      extra: undefined,
    };
  return { seq, permissions, channels: undefined, closed: false, sweep: 0, extra: undefined };
}

const extraOf = (c: Connection): Extra => {
  c.extra ??= { presence: undefined, leaving: false };
  return c.extra;
};

export function isLeaving(c: Connection): boolean {
  return c.extra?.leaving === true;
}

export function markLeaving(c: Connection): void {
  extraOf(c).leaving = true;
}

/** Records that the socket is a presence member of `channel`. */
export function addPresence(c: Connection, channel: string): void {
  const extra = extraOf(c);
  extra.presence ??= new Set();
  extra.presence.add(channel);
}

/** Whether it was a presence member of `channel` (and is no longer). */
export function removePresence(c: Connection, channel: string): boolean {
  return c.extra?.presence?.delete(channel) ?? false;
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
