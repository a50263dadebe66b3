// The embedded broker: one process, per-channel offsets and bounded history, local presence.
import { randomBytes } from "node:crypto";
import { historyComplete } from "../stream/sequence.js";
import type {
  Broker,
  BrokerEvents,
  BrokerMessage,
  HistoryLimits,
  HistoryOptions,
  HistoryResult,
  JoinLeaveOptions,
  NodeReport,
  Position,
  PresenceEntry,
} from "./broker.js";

interface ChannelState {
  offset: number;
  /** Ring of the latest messages, oldest first (bounded by the channel's historySize). */
  history: BrokerMessage[];
  /** The channel's history size and TTL, looked up once (the config does not change while running). */
  limits: HistoryLimits;
}

export interface MemoryBrokerOptions extends HistoryOptions, JoinLeaveOptions {
  now?: () => number;
}

export function createMemoryBroker(options: MemoryBrokerOptions): Broker {
  const now = options.now ?? Date.now;
  const limitsOf = options.historyOf ?? (() => options);
  const announced = options.joinLeaveOf ?? (() => true);
  // A fresh epoch per process: offsets from an earlier process are not comparable.
  const epoch = randomBytes(6).toString("hex");
  const channels = new Map<string, ChannelState>();
  const subscribed = new Set<string>();
  const presence = new Map<string, Map<string, PresenceEntry>>();
  let events: BrokerEvents | undefined;
  let pending: BrokerMessage[] = [];
  let flushScheduled = false;
  // The one node's last heartbeat, and when it expires (a memory broker is its own fleet of one).
  let report: { node: NodeReport; expiresAt: number } | undefined;

  // Deliver publishes in batches once per tick, as a network broker would.
  const flush = () => {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length > 0) events?.message(batch);
  };

  const trim = (state: ChannelState) => {
    const minTime = now() - state.limits.historyTtlSeconds * 1000;
    const h = state.history;
    let drop = Math.max(0, h.length - state.limits.historySize);
    while (drop < h.length && (h[drop] as BrokerMessage).publishedAt < minTime) drop++;
    if (drop > 0) h.splice(0, drop);
  };

  // Expired history is dropped on access, and by a sweep so idle channels do not keep it forever.
  // (Offsets stay: a channel's offsets never go back within an epoch.)
  let sweep: NodeJS.Timeout | undefined;

  return {
    kind: "memory",
    async start(e) {
      events = e;
      sweep = setInterval(() => {
        for (const state of channels.values()) if (state.history.length > 0) trim(state);
      }, 10_000).unref();
      e.health(true);
    },
    async close() {
      if (sweep) clearInterval(sweep);
      flush();
      events = undefined;
    },
    healthy: () => true,
    async publish(channel, data) {
      let state = channels.get(channel);
      if (!state) {
        state = { offset: 0, history: [], limits: limitsOf(channel) };
        channels.set(channel, state);
      }
      state.offset += 1;
      const message: BrokerMessage = { channel, offset: state.offset, epoch, data, publishedAt: now() };
      if (state.limits.historySize > 0) {
        state.history.push(message);
        if (state.history.length > state.limits.historySize) trim(state);
      }
      if (subscribed.has(channel)) {
        pending.push(message);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      }
      return { offset: state.offset, epoch };
    },
    async subscribe(channel) {
      subscribed.add(channel);
    },
    async unsubscribe(channel) {
      subscribed.delete(channel);
    },
    async history(channel, since, clientEpoch): Promise<HistoryResult> {
      const state = channels.get(channel);
      const position = { offset: state?.offset ?? 0, epoch };
      // Offsets from another epoch mean nothing here: nothing to replay (historyComplete says the client must know).
      const foreign = since > 0 && clientEpoch !== undefined && clientEpoch !== epoch;
      if (state) trim(state);
      const messages = !state || foreign ? [] : state.history.filter((m) => m.offset > since);
      const complete = historyComplete(since, clientEpoch, position, messages);
      return { ...position, messages, complete };
    },
    async position(channel): Promise<Position> {
      return { offset: channels.get(channel)?.offset ?? 0, epoch };
    },
    async presenceJoin(channel, member) {
      let members = presence.get(channel);
      if (!members) {
        members = new Map();
        presence.set(channel, members);
      }
      members.set(member.connectionId, member);
      if (announced(channel)) events?.presence({ channel, kind: "join", member });
    },
    async presenceLeave(channel, member) {
      const members = presence.get(channel);
      if (!members?.delete(member.connectionId)) return;
      if (members.size === 0) presence.delete(channel);
      if (announced(channel)) events?.presence({ channel, kind: "leave", member });
    },
    async presenceList(channel) {
      return [...(presence.get(channel)?.values() ?? [])];
    },
    async sendControl(message) {
      // Delivered on a later tick, as over Redis: the API answers before the sockets are acted on.
      setImmediate(() => events?.control?.(message));
      return events ? 1 : 0;
    },
    async reportNode(node, ttlMs) {
      report = { node, expiresAt: now() + ttlMs };
    },
    async nodes() {
      return report && report.expiresAt > now() ? [report.node] : [];
    },
  };
}
