// The broker: what the gateway needs from whatever carries messages between pods.
// memory.ts is the embedded one-process broker; redis/ spans pods. Both keep, per channel,
// a monotonically increasing offset, an epoch, and a bounded history for `since` recovery.

/** One published message as the broker carries it. `data` is serialized JSON text. */
export interface BrokerMessage {
  channel: string;
  offset: number;
  epoch: string;
  data: string;
  /** Wall-clock ms when the broker accepted the publish (delivery latency is measured from here). */
  publishedAt: number;
}

export interface Position {
  /** Latest offset on the channel (0 when nothing was ever published). */
  offset: number;
  /** Changes whenever the channel's offsets/history restart (e.g. Redis restarted empty). */
  epoch: string;
}

export interface HistoryResult extends Position {
  /** Messages with offset > since, oldest first, at most the history size. */
  messages: BrokerMessage[];
  /** True when history reached back to since + 1 (no gap) and the epoch matched. */
  complete: boolean;
}

/** How much history one channel keeps: its namespace's (RTGW_CONFIG), else the RTGW_HISTORY_* defaults. */
export interface HistoryLimits {
  /** Messages kept; 0: none (offsets still advance, so a resume past them is told it was not recovered). */
  historySize: number;
  historyTtlSeconds: number;
}

/** The brokers' history options: one size and TTL for every channel, or `historyOf` deciding per channel. */
export interface HistoryOptions extends HistoryLimits {
  /** Per channel (a Map lookup, asked at each publish and read); without it every channel gets the above. */
  historyOf?: (channel: string) => HistoryLimits;
}

/** Whether a channel's presence joins and leaves are announced (its namespace's joinLeave); default: every channel. */
export interface JoinLeaveOptions {
  /** Off: members are still written (presence lists work), but no join/leave event is published for them. */
  joinLeaveOf?: (channel: string) => boolean;
}

export interface PresenceEntry {
  connectionId: string;
  sub?: string;
  node: string;
}

export type PresenceEvent = { channel: string; kind: "join" | "leave"; member: PresenceEntry };

/** An order from the server API to every node of the fleet (each applies it to its own sockets). */
export type ControlMessage =
  | { kind: "disconnect"; user: string }
  | { kind: "unsubscribe"; user: string; channel: string };

/** What a node reports about itself to the fleet's node registry (one heartbeat). */
export interface NodeReport {
  node: string;
  version: string;
  /** Wall-clock ms when the process started. */
  startedAt: number;
  connections: number;
  /** Local subscribers per channel (channels with at least one). */
  channels: Record<string, number>;
}

/** Thrown by broker calls that cannot be served right now (e.g. Redis down). Maps to error `unavailable`. */
export class BrokerUnavailableError extends Error {
  override name = "BrokerUnavailableError";
}

export interface BrokerEvents {
  /** Messages for channels this node subscribed to, in offset order per channel, possibly batched. */
  message(batch: readonly BrokerMessage[]): void;
  /** Connectivity changed. On `true` after `false`, subscriptions have been restored. */
  health(healthy: boolean): void;
  presence(event: PresenceEvent): void;
  /**
   * The broker found a hole in a channel's stream it could not fill from history (e.g. Redis lost its data
   * while this node was cut off). Subscribers get a `resync` frame; delivery continues after `position.offset`.
   */
  resync(channel: string, position: Position): void;
  /** A control message for every node (this one included): apply it to the local sockets. Optional: a process
   * with no sockets (a bench, a broker test) need not listen. */
  control?(message: ControlMessage): void;
}

export interface Broker {
  readonly kind: "memory" | "redis";
  start(events: BrokerEvents): Promise<void>;
  close(): Promise<void>;
  /** Connected and (for Redis) the canary round trip is fresh. Drives readiness. */
  healthy(): boolean;
  /** Atomically assign the next offset, append to history, fan out to every node subscribed. */
  publish(channel: string, data: string): Promise<Position>;
  /**
   * Start receiving the channel's messages on this node. Called when the first local subscriber joins;
   * resolves once delivery is live (so a history read after it leaves no gap).
   */
  subscribe(channel: string): Promise<void>;
  /** Called when the last local subscriber leaves. */
  unsubscribe(channel: string): Promise<void>;
  /** History after `since` (exclusive), checked against `epoch` when the client sent one. */
  history(channel: string, since: number, epoch?: string): Promise<HistoryResult>;
  position(channel: string): Promise<Position>;
  presenceJoin(channel: string, member: PresenceEntry): Promise<void>;
  presenceLeave(channel: string, member: PresenceEntry): Promise<void>;
  presenceList(channel: string): Promise<PresenceEntry[]>;
  /** Send a control message to every node of the fleet; resolves with how many nodes received it. */
  sendControl(message: ControlMessage): Promise<number>;
  /** Write this node's heartbeat into the node registry; it expires unless renewed within `ttlMs`. */
  reportNode(report: NodeReport, ttlMs: number): Promise<void>;
  /** Every node whose heartbeat has not expired (this one included once it reported). */
  nodes(): Promise<NodeReport[]>;
}
