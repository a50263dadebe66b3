// Each channel's stream on this node: subscribed per channel (refcounted) on its subscriber connection, with a
// cursor (the last offset handed on, and its epoch). Live messages go through the sequencing core; after any
// break (reconnect, slot move, a gap) history fills the hole, or the hub is told to resync. Effects only here:
// the decisions are in ../../stream/sequence.ts.
import type { Logger } from "pino";
import { applyLive, type Cursor, type Emission, mergeRecovery } from "../../stream/sequence.js";
import type { BrokerEvents, BrokerMessage } from "../broker.js";
import type { ChannelLog } from "./channel-log.js";
import { unavailable } from "./connections.js";
import { channelOfPubsub, pubsubChannel } from "./keys.js";
import { decodePayload } from "./payload.js";
import type { Shards, SubscriberShard } from "./shards.js";

/** Live messages held per channel while a history read is in flight; past it the read is redone. */
const MAX_HELD = 100_000;
const RETRY_MS = 250;

interface ChannelState {
  channel: string;
  pubsub: string;
  refs: number;
  shard: SubscriberShard;
  /** Last offset handed to the hub (or the position when the subscription began), and its epoch. */
  cursor: Cursor | undefined;
  /** False while joining or recovering: live messages are held, then merged. */
  live: boolean;
  held: BrokerMessage[];
  overflowed: boolean;
  joined: Promise<void>;
}

export interface StreamsOptions {
  shards: Shards;
  log: ChannelLog;
  logger: Logger;
  commandTimeoutMs: number;
  isClosed: () => boolean;
  events: () => BrokerEvents | undefined;
  /** A restore finished: health may have changed. */
  restored: () => void;
}

export class ChannelStreams {
  private readonly channels = new Map<string, ChannelState>();
  private readonly byPubsub = new Map<string, ChannelState>();
  /** Per channel, the tail of its serialized subscribe/unsubscribe/restore operations. */
  private readonly tails = new Map<string, Promise<void>>();
  private pending: BrokerMessage[] = [];
  private flushScheduled = false;

  constructor(private readonly o: StreamsOptions) {}

  /** The shards that carry a channel now. */
  usedShards(): Set<SubscriberShard> {
    return new Set([...this.channels.values()].map((state) => state.shard));
  }

  async subscribe(channel: string): Promise<void> {
    const existing = this.channels.get(channel);
    if (existing) {
      existing.refs++;
      return existing.joined;
    }
    const pubsub = pubsubChannel(channel);
    const shard = this.o.shards.shardFor(pubsub);
    const state: ChannelState = {
      channel,
      pubsub,
      refs: 1,
      shard,
      cursor: undefined,
      live: false,
      held: [],
      overflowed: false,
      joined: Promise.resolve(),
    };
    this.channels.set(channel, state);
    this.byPubsub.set(pubsub, state);
    state.joined = this.serial(channel, async () => {
      try {
        await shard.whenReady(this.o.commandTimeoutMs);
        await shard.subscribe(pubsub);
        await this.recover(state);
      } catch (error) {
        if (this.channels.get(channel) === state) this.forget(state);
        if (shard.ready) await shard.unsubscribe(pubsub).catch(() => undefined);
        throw unavailable(error);
      }
    });
    return state.joined;
  }

  async unsubscribe(channel: string): Promise<void> {
    const state = this.channels.get(channel);
    if (!state) return;
    state.refs--;
    if (state.refs > 0) return;
    this.forget(state);
    await this.serial(channel, async () => {
      // A later subscribe to the same channel queues behind this, so the wire order stays SUBSCRIBE/UNSUBSCRIBE.
      if (state.shard.ready && !this.channels.has(channel)) await state.shard.unsubscribe(state.pubsub);
    }).catch((error: unknown) => this.o.logger.debug({ channel, err: String(error) }, "unsubscribe failed"));
  }

  private forget(state: ChannelState): void {
    this.channels.delete(state.channel);
    this.byPubsub.delete(state.pubsub);
  }

  private current(state: ChannelState): boolean {
    return !this.o.isClosed() && this.channels.get(state.channel) === state;
  }

  /** The shard's connection dropped: its channels hold live messages until the restore. */
  shardDown(shard: SubscriberShard): void {
    for (const state of this.channels.values()) if (state.shard === shard) state.live = false;
  }

  /** A subscriber connection (re)connected: resubscribe its channels, then fill each one's hole or resync. */
  shardReady(shard: SubscriberShard): void {
    const generation = shard.generation;
    for (const state of this.channels.values()) {
      if (state.shard !== shard) continue;
      state.live = false;
      shard.restoring++;
      void this.serial(state.channel, () => this.restore(state, generation)).finally(() => {
        shard.restoring--;
        this.o.restored();
      });
    }
  }

  /**
   * Cluster: a slot moved (resharding, failover). Move each affected channel's subscription to the new owner and
   * fill what it missed meanwhile from history (which moved with the keys), or resync.
   */
  followSlots(): void {
    for (const state of this.channels.values()) {
      let owner: SubscriberShard;
      try {
        owner = this.o.shards.shardFor(state.pubsub);
      } catch {
        continue;
      }
      if (owner === state.shard) continue;
      const previous = state.shard;
      state.shard = owner;
      state.live = false;
      owner.restoring++;
      this.o.logger.info({ channel: state.channel, from: previous.key, to: owner.key }, "channel slot moved");
      void this.serial(state.channel, async () => {
        if (previous.ready) await previous.unsubscribe(state.pubsub).catch(() => undefined);
        await this.restore(state, owner.generation);
      }).finally(() => {
        owner.restoring--;
        this.o.restored();
      });
    }
  }

  private async restore(state: ChannelState, generation: number): Promise<void> {
    while (this.current(state) && state.shard.generation === generation) {
      try {
        await state.shard.subscribe(state.pubsub);
        await this.recover(state);
        return;
      } catch (error) {
        this.o.logger.debug({ channel: state.channel, err: String(error) }, "restore failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /**
   * Read history after the cursor (or just the position, for a new subscription) and merge it with the live
   * messages held meanwhile. Runs with the subscription already live, so nothing can fall between the two.
   */
  private async recover(state: ChannelState): Promise<void> {
    do {
      state.overflowed = false;
      const cursor = state.cursor;
      // A new subscription only needs the position: it starts there.
      const history = await this.o.log.read(
        state.channel,
        cursor?.offset ?? 0,
        cursor?.epoch,
        cursor === undefined,
      );
      if (state.overflowed) continue;
      const from = cursor ?? { offset: history.offset, epoch: history.epoch };
      const held = state.held;
      state.held = [];
      const step = mergeRecovery(from, history, held);
      this.emitInOrder(state, step.emit);
      state.cursor = step.cursor;
    } while (state.overflowed);
    state.live = true;
  }

  /** Serialize operations on one channel (subscribe, unsubscribe, restore), across successive states. */
  private serial<T>(channel: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(channel) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(channel, tail);
    void tail.then(() => {
      if (this.tails.get(channel) === tail) this.tails.delete(channel);
    });
    return run;
  }

  /** A pub/sub message. False when no channel stream has this pub/sub name (a canary, or one just left). */
  received(name: string, payload: string): boolean {
    const state = this.byPubsub.get(name);
    if (!state) return false;
    const decoded = decodePayload(state.channel, payload);
    if (decoded.type === "presence") {
      this.o.events()?.presence(decoded.event);
      return true;
    }
    if (decoded.type === "invalid") {
      this.o.logger.warn(
        { channel: channelOfPubsub(name), reason: decoded.reason },
        "dropped a malformed payload",
      );
      return true;
    }
    const message = decoded.message;
    const cursor = state.cursor;
    if (!state.live || cursor === undefined) {
      this.hold(state, message);
      return true;
    }
    const step = applyLive(cursor, [message]);
    state.cursor = step.cursor;
    this.emitInOrder(state, step.emit);
    if (step.rest.length === 0) return true;
    // A gap. Pub/sub on one connection is ordered and lossless while it lasts, so this is rare (e.g. Redis cut an
    // output buffer). Hold from here and fill from history.
    state.live = false;
    for (const held of step.rest) this.hold(state, held);
    void this.serial(state.channel, async () => {
      while (this.current(state) && !state.live) {
        try {
          await this.recover(state);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    });
    return true;
  }

  private hold(state: ChannelState, message: BrokerMessage): void {
    if (state.held.length >= MAX_HELD) {
      state.held = [];
      state.overflowed = true;
    }
    state.held.push(message);
  }

  private emitInOrder(state: ChannelState, emissions: readonly Emission[]): void {
    for (const emission of emissions) {
      if ("message" in emission) {
        this.pending.push(emission.message);
      } else {
        this.flush();
        this.o.logger.info(
          { channel: state.channel, position: emission.resync },
          "channel stream has a hole: resync",
        );
        this.o.events()?.resync(state.channel, emission.resync);
      }
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.o.events()?.message(batch);
  }
}
