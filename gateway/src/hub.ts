// The hub: local fan-out of broker messages through uWS native topics, per-channel refcounts towards the
// broker, and gap- and duplicate-free `since` recovery even when the broker is asynchronous.
import { encodeFrame, encodeMessage, encodeMessageBatch } from "../../protocol/index.js";
import type { Broker, BrokerMessage, Position, PresenceEntry, PresenceEvent } from "./broker/broker.js";
import {
  addChannel,
  addPresence,
  type Connection,
  channelsOf,
  connectionId,
  hasChannel,
  removeChannel,
  removePresence,
  type Socket,
} from "./connection.js";
import { deliveryLatency, messagesDelivered } from "./metrics.js";
import { exposeMember, type PresenceField } from "./presence-fields.js";
import { SlowConsumerWatch } from "./slow-consumers.js";
import type { Topics } from "./sse/topics.js";
import { follow, type LiveItem, livePassed, mergeReplay, type Output, replayStart } from "./stream/replay.js";
import type { Cursor } from "./stream/sequence.js";

/** Topic carrying a channel's message frames. */
export const messageTopic = (channel: string) => `m:${channel}`;
/** Topic carrying a channel's join/leave frames (only sockets that asked for presence). */
export const presenceTopic = (channel: string) => `p:${channel}`;

/**
 * A socket between "subscribe received" and "on the uWS topic".
 * Phase 1 (`sent` undefined): waiting for the broker and history; live batches and resyncs are buffered.
 * Phase 2: history and buffer were sent up to `sent`, but the live stream has not yet reached it (an async
 * broker can return a message from history before its live copy arrives). Live messages and resyncs go to the
 * socket directly, through the same core (stream/replay.ts follow), until the stream passes `sent`; then it
 * joins the topic. Either way an epoch change reaches it as a resync before the new epoch's first message.
 */
interface Catchup {
  /** Phase 1: live batches and resyncs as they came (a big batch is kept whole, never spread into another array). */
  buffer: LiveItem[];
  /** Phase 2: the last offset (and its epoch) sent to the socket. */
  sent: Cursor | undefined;
}

interface LocalChannel {
  /** Local sockets subscribed or subscribing. */
  refs: number;
  /** Resolves when the broker delivers this channel live. */
  live: Promise<void>;
  /** Sockets not yet on the topic (see Catchup). */
  recovering: Map<Socket, Catchup> | undefined;
  /**
   * Sockets on this channel's message or presence topic: the only ones its publishes can add bytes to, so
   * the only ones a slow-consumer sweep must read after it had some (recovering sockets get direct sends).
   */
  members: Set<Socket>;
  /** The newest offset (and its epoch) delivered live on this node, or the position of its last resync. */
  liveAt: Cursor | undefined;
  /** The epoch of the last message published on the topic: the first message of another one carries its epoch. */
  topicEpoch: string | undefined;
}

/** Batches stay under this size, so uWS's per-send backpressure check stays meaningful. */
const MAX_BATCH_BYTES = 64 * 1024;

/**
 * One channel's messages as frames: a plain frame for one message, JSON arrays of up to ~64 KB for several. The
 * first message of an epoch other than `epochBefore` (the epoch of what the receivers had before) carries it.
 */
export function* batchFrames(
  messages: readonly BrokerMessage[],
  epochBefore: string | undefined = messages[0]?.epoch,
): Generator<string> {
  let pending: string[] = [];
  let size = 0;
  let epoch = epochBefore;
  for (const m of messages) {
    const encoded = encodeMessage(m.channel, m.offset, m.data, m.epoch === epoch ? undefined : m.epoch);
    epoch = m.epoch;
    if (pending.length > 0 && size + encoded.length > MAX_BATCH_BYTES) {
      yield encodeMessageBatch(pending);
      pending = [];
      size = 0;
    }
    pending.push(encoded);
    size += encoded.length + 1;
  }
  if (pending.length > 0) yield encodeMessageBatch(pending);
}

export interface SubscribeResult {
  position: Position;
  /** Only when the subscribe asked for recovery (`since`): whether history reached back. Else undefined. */
  recovered: boolean | undefined;
}

export interface HubOptions {
  /** uWS's app, or fanOut over it and the SSE streams (sse/topics.ts). */
  app: Topics;
  broker: Broker;
  nodeId: string;
  compress: boolean;
  /** Called for a socket whose send buffer passed its bound (after a direct send, or found by a sweep). */
  onSlowConsumer: (ws: Socket) => void;
  maxBackpressureBytes: number;
  /** What others see of a member (RTGW_PRESENCE_FIELDS). */
  presenceFields: ReadonlySet<PresenceField>;
}

export class Hub {
  private readonly channels = new Map<string, LocalChannel>();
  /** Reads the send buffers of the sockets topic publishes reached (see slow-consumers.ts for the bound). */
  private readonly watch: SlowConsumerWatch<Socket>;

  constructor(private readonly o: HubOptions) {
    this.watch = new SlowConsumerWatch({ boundBytes: o.maxBackpressureBytes, onSlow: o.onSlowConsumer });
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** Local subscribers (subscribed or subscribing) per channel, for the node registry. */
  subscriberCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [channel, local] of this.channels) counts[channel] = local.refs;
    return counts;
  }

  /** Broker → local sockets. One encode and one uWS publish per channel per batch. */
  deliver(batch: readonly BrokerMessage[]): void {
    const byChannel = new Map<string, BrokerMessage[]>();
    for (const m of batch) {
      const list = byChannel.get(m.channel);
      if (list) list.push(m);
      else byChannel.set(m.channel, [m]);
    }
    const now = Date.now();
    for (const [channel, messages] of byChannel) {
      const local = this.channels.get(channel);
      if (!local) continue;
      const tail = messages[messages.length - 1] as BrokerMessage;
      local.liveAt = { offset: tail.offset, epoch: tail.epoch };
      const epochBefore = local.topicEpoch ?? (messages[0] as BrokerMessage).epoch;
      local.topicEpoch = tail.epoch;
      if (local.recovering)
        for (const c of local.recovering.values()) if (c.sent === undefined) c.buffer.push(messages);
      const topic = messageTopic(channel);
      const subscribers = this.o.app.numSubscribers(topic);
      if (subscribers > 0) {
        for (const payload of batchFrames(messages, epochBefore)) {
          this.o.app.publish(topic, payload, false, this.o.compress);
          // Per frame, not per batch: a sweep may close sockets here (their close handlers run at once).
          this.watch.published(local.members, Buffer.byteLength(payload));
        }
        messagesDelivered.inc(subscribers * messages.length);
      }
      // After the topic publish, so a socket that joins the topic now does not get this batch twice.
      if (local.recovering)
        for (const [ws, c] of local.recovering)
          if (c.sent !== undefined) this.catchUp(ws, channel, local, c, messages);
      for (const m of messages) deliveryLatency.observe(Math.max(0, now - m.publishedAt) / 1000);
    }
  }

  presence(event: PresenceEvent): void {
    const local = this.channels.get(event.channel);
    if (!local) return;
    const topic = presenceTopic(event.channel);
    if (this.o.app.numSubscribers(topic) === 0) return;
    const member = exposeMember(event.member, this.o.presenceFields);
    const frame = encodeFrame({ type: event.kind, channel: event.channel, member });
    this.o.app.publish(topic, frame, false, this.o.compress);
    this.watch.published(local.members, Buffer.byteLength(frame));
  }

  resync(channel: string, position: Position): void {
    const local = this.channels.get(channel);
    if (!local) return;
    const frame = encodeFrame({
      type: "resync",
      channel,
      epoch: position.epoch,
      offset: position.offset,
      recovered: false,
    });
    local.liveAt = { offset: position.offset, epoch: position.epoch };
    this.o.app.publish(messageTopic(channel), frame, false, this.o.compress);
    this.watch.published(local.members, Buffer.byteLength(frame));
    // Sockets still subscribing get it too, in their order: buffered until their replay, or through catch-up.
    if (local.recovering)
      for (const [ws, c] of local.recovering) {
        if (c.sent === undefined) c.buffer.push({ resync: position });
        else this.catchUp(ws, channel, local, c, { resync: position });
      }
  }

  member(c: Connection): PresenceEntry {
    return c.permissions.sub === undefined
      ? { connectionId: connectionId(c), node: this.o.nodeId }
      : { connectionId: connectionId(c), sub: c.permissions.sub, node: this.o.nodeId };
  }

  /**
   * Subscribe a socket. Registers it as recovering at once (so no live message is lost), waits for the
   * broker to be live, reads history, then hands `send` the ack and replays history merged with buffered
   * live messages by offset, and joins the uWS topic, all in one synchronous step.
   * Returns undefined when the socket left (closed or unsubscribed) before it finished.
   */
  async subscribe(
    ws: Socket,
    channel: string,
    opts: {
      since: number | undefined;
      epoch: string | undefined;
      presence: boolean;
      /** Whether the socket hears others join and leave (its namespace's joinLeave); presence lists work either way. */
      joinLeave: boolean;
    },
    sendAck: (result: SubscribeResult) => void,
  ): Promise<SubscribeResult | undefined> {
    const conn = ws.getUserData();
    addChannel(conn, channel);
    const local = this.acquire(channel);
    const catchup: Catchup = { buffer: [], sent: undefined };
    if (!local.recovering) local.recovering = new Map();
    local.recovering.set(ws, catchup);
    const stillHere = () => !conn.closed && local.recovering?.get(ws) === catchup;
    try {
      await local.live;
      let position: Position;
      let replay: BrokerMessage[] = [];
      let recovered: boolean | undefined;
      if (opts.since !== undefined) {
        const h = await this.o.broker.history(channel, opts.since, opts.epoch);
        position = { offset: h.offset, epoch: h.epoch };
        replay = h.messages;
        recovered = h.complete;
      } else {
        position = await this.o.broker.position(channel);
      }
      const result = { position, recovered };
      if (!stillHere()) {
        // Unsubscribed meanwhile: still answer the subscribe, but join nothing.
        if (!conn.closed) ws.cork(() => sendAck(result));
        return undefined;
      }
      const start = replayStart(opts.since, opts.epoch, recovered === true, position);
      ws.cork(() => {
        sendAck(result);
        const merged = mergeReplay(start, replay, catchup.buffer);
        this.sendOutputs(ws, channel, start.epoch, merged.out);
        // A send above may have closed a slow socket; its close handler already released the channel.
        if (conn.closed) return;
        if (opts.presence && opts.joinLeave) {
          ws.subscribe(presenceTopic(channel));
          local.members.add(ws);
        }
        catchup.buffer = [];
        catchup.sent = merged.cursor;
        // Join the topic now only if the live stream already passed what was sent; else catch up (phase 2).
        if (livePassed(merged.cursor, local.liveAt)) this.join(ws, channel, local);
      });
      // Presence only where asked: a subscriber without presence on is no member, and nobody hears of it.
      if (opts.presence && !conn.closed && hasChannel(conn, channel)) {
        addPresence(conn, channel);
        void this.o.broker.presenceJoin(channel, this.member(conn)).catch(() => {});
      }
      return result;
    } catch (err) {
      // Broker failure: undo, unless the socket already left (then leave() has undone it).
      if (stillHere()) this.leave(ws, channel);
      throw err;
    }
  }

  /** Phase 2 of a subscribe: pass on what the socket has not had; join the topic once the live stream caught up. */
  private catchUp(ws: Socket, channel: string, local: LocalChannel, c: Catchup, item: LiveItem): void {
    const sent = c.sent as Cursor;
    const step = follow(sent, [item]);
    c.sent = step.cursor;
    if (step.out.length > 0) ws.cork(() => this.sendOutputs(ws, channel, sent.epoch, step.out));
    if (ws.getUserData().closed) return;
    if (livePassed(step.cursor, local.liveAt)) this.join(ws, channel, local);
  }

  /** Direct sends of the core's outputs: resync frames, and message frames marked where their epoch changes. */
  private sendOutputs(ws: Socket, channel: string, epochBefore: string, outputs: readonly Output[]): void {
    let epoch = epochBefore;
    for (const output of outputs) {
      if ("resync" in output) {
        const { offset, epoch: next } = output.resync;
        this.send(ws, encodeFrame({ type: "resync", channel, epoch: next, offset, recovered: false }));
        continue;
      }
      for (const payload of batchFrames(output.messages, epoch)) this.send(ws, payload);
      messagesDelivered.inc(output.messages.length);
      epoch = (output.messages[output.messages.length - 1] as BrokerMessage).epoch;
    }
  }

  private join(ws: Socket, channel: string, local: LocalChannel): void {
    local.recovering?.delete(ws);
    if (local.recovering?.size === 0) local.recovering = undefined;
    ws.subscribe(messageTopic(channel));
    local.members.add(ws);
  }

  /** Unsubscribe one channel. Returns false if the socket was not subscribed to it. */
  unsubscribe(ws: Socket, channel: string): boolean {
    const conn = ws.getUserData();
    if (!hasChannel(conn, channel)) return false;
    ws.unsubscribe(messageTopic(channel));
    ws.unsubscribe(presenceTopic(channel));
    this.leave(ws, channel);
    // Bytes this channel sent it may not have been read yet, and sweeps no longer reach it through it.
    this.watch.check(ws);
    return true;
  }

  /** The socket closed: release every channel it held (uWS drops its topics itself). */
  closed(ws: Socket): void {
    const conn = ws.getUserData();
    for (const channel of channelsOf(conn)) this.leave(ws, channel);
  }

  subscribed(ws: Socket, channel: string): boolean {
    return hasChannel(ws.getUserData(), channel);
  }

  /** A direct send (not through a topic) that enforces the backpressure bound itself. */
  send(ws: Socket, frame: string): void {
    const status = ws.send(frame, false, this.o.compress);
    if (status === 2 || ws.getBufferedAmount() > this.o.maxBackpressureBytes) this.o.onSlowConsumer(ws);
  }

  private acquire(channel: string): LocalChannel {
    let local = this.channels.get(channel);
    if (!local) {
      local = {
        refs: 0,
        live: this.o.broker.subscribe(channel),
        recovering: undefined,
        members: new Set(),
        liveAt: undefined,
        topicEpoch: undefined,
      };
      // A failed broker subscribe is reported to the subscribers awaiting it; don't leave it unhandled.
      local.live.catch(() => {});
      this.channels.set(channel, local);
    }
    local.refs += 1;
    return local;
  }

  private leave(ws: Socket, channel: string): void {
    const conn: Connection = ws.getUserData();
    removeChannel(conn, channel);
    const local = this.channels.get(channel);
    if (!local) return;
    if (local.recovering?.delete(ws) && local.recovering.size === 0) local.recovering = undefined;
    local.members.delete(ws);
    if (removePresence(conn, channel))
      void this.o.broker.presenceLeave(channel, this.member(conn)).catch(() => {});
    local.refs -= 1;
    if (local.refs <= 0) {
      this.channels.delete(channel);
      void this.o.broker.unsubscribe(channel).catch(() => {});
    }
  }
}
