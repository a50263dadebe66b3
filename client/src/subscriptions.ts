// The client's channels: one entry per subscribed channel (its ChannelStream, its handlers, its timers), the
// subscribe/unsubscribe requests, and the hand-over of each stream's outputs to the handlers. The client shell
// (client.ts) owns the socket and calls in on open, on each message/resync frame, on detach and on shutdown.
import {
  type AckFrame,
  type ClientFrame,
  type PublishFrame,
  TERMINAL_ERROR_CODES,
} from "../../protocol/index.js";
import { Backoff, type BackoffPolicy, type RandomSource } from "./backoff.js";
import { ChannelStream, type ResyncReason, type StreamOutput } from "./channel-stream.js";
import { RtgwError } from "./errors.js";

export type JsonValue = PublishFrame["data"];

export interface MessageMeta {
  channel: string;
  offset: number;
  epoch: string | undefined;
}
export type MessageHandler = (data: JsonValue, meta: MessageMeta) => void;

export interface ResyncEvent {
  channel: string;
  reason: ResyncReason;
  /** Delivery continues after this offset. */
  offset: number;
  epoch: string | undefined;
  /** The last offset delivered before the break. */
  previousOffset: number | undefined;
}

export interface SubscribeOptions {
  /** Also receive join/leave events for this channel (fixed by the channel's first subscription). */
  presence?: boolean;
  /** Resume after an offset the application kept (e.g. across page loads). */
  since?: number;
  epoch?: string;
}

export interface SubscribeResult {
  /** The channel's offset when the subscription began (later messages are delivered). */
  offset: number | undefined;
  epoch: string | undefined;
  /** Only when the subscribe carried `since`: whether history reached back. */
  recovered: boolean | undefined;
}

export interface Subscription {
  readonly channel: string;
  /** Settles with the first ack; rejects if the gateway refuses for good (`forbidden`, `bad_request`). */
  readonly ready: Promise<SubscribeResult>;
  unsubscribe(): void;
}

/** What the channels need from the client shell. */
export interface ChannelsHost {
  request(
    kind: "subscribe" | "unsubscribe",
    frame: (id: number) => ClientFrame,
    callbacks: { resolve: (ack: AckFrame) => void; reject: (error: RtgwError) => void },
  ): void;
  isOpen(): boolean;
  resync(event: ResyncEvent): void;
  error(error: RtgwError): void;
  gapTimeoutMs: number;
  backoff: BackoffPolicy;
  random: RandomSource;
}

interface SubscriptionHandle {
  handler: MessageHandler;
  settle?: { resolve: (result: SubscribeResult) => void; reject: (error: RtgwError) => void };
}

interface ChannelEntry {
  channel: string;
  stream: ChannelStream<JsonValue>;
  presence: boolean;
  handles: Set<SubscriptionHandle>;
  acked: SubscribeResult | undefined;
  gapTimer: ReturnType<typeof setTimeout> | undefined;
  /** A subscribe the gateway refused for now (e.g. `unavailable`): retried with backoff on this connection. */
  retry: Backoff;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

export class Channels {
  readonly #entries = new Map<string, ChannelEntry>();

  constructor(private readonly host: ChannelsHost) {}

  /** Add a handler for a channel (subscribing it if it is new). The channel name was checked by the caller. */
  add(channel: string, handler: MessageHandler, options: SubscribeOptions): Subscription {
    let entry = this.#entries.get(channel);
    if (entry && options.presence && !entry.presence) {
      throw new RtgwError(
        "bad_request",
        `channel ${channel} is already subscribed without presence; unsubscribe first`,
        "client",
        { channel },
      );
    }
    const handle: SubscriptionHandle = { handler };
    const ready = new Promise<SubscribeResult>((resolve, reject) => {
      handle.settle = { resolve, reject };
    });
    ready.catch(() => {}); // callers that never await `ready` must not see an unhandled rejection
    if (!entry) {
      entry = {
        channel,
        stream: new ChannelStream<JsonValue>({ since: options.since, epoch: options.epoch }),
        presence: options.presence ?? false,
        handles: new Set([handle]),
        acked: undefined,
        gapTimer: undefined,
        retry: new Backoff(this.host.backoff, this.host.random),
        retryTimer: undefined,
      };
      this.#entries.set(channel, entry);
      if (this.host.isOpen()) this.#subscribe(entry);
    } else {
      entry.handles.add(handle);
      if (entry.acked) {
        handle.settle?.resolve(entry.acked);
        handle.settle = undefined;
      }
    }
    const owner = entry;
    return { channel, ready, unsubscribe: () => this.#unsubscribe(owner, handle) };
  }

  /** A new connection: subscribe every channel again, from where its stream stands. */
  resubscribeAll(): void {
    for (const entry of this.#entries.values()) this.#subscribe(entry);
  }

  /** False when no subscription holds the channel (a server-side channel's message, say). */
  message(channel: string, offset: number, data: JsonValue, epoch: string | undefined): boolean {
    const entry = this.#entries.get(channel);
    if (entry) this.#dispatch(entry, entry.stream.onMessage(offset, data, epoch));
    return entry !== undefined;
  }

  serverResync(channel: string, offset: number, epoch: string): void {
    const entry = this.#entries.get(channel);
    if (entry) this.#dispatch(entry, entry.stream.onResync(offset, epoch));
  }

  /** The socket is gone: stop the per-connection timers (the next connection resubscribes every channel). */
  detach(): void {
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.gapTimer);
      entry.gapTimer = undefined;
      clearTimeout(entry.retryTimer);
      entry.retryTimer = undefined;
    }
  }

  /** The gateway ended a subscription (a refreshed token no longer allows it): drop it, never resubscribe. */
  endOne(channel: string, error: RtgwError): void {
    const entry = this.#entries.get(channel);
    if (entry) {
      this.#entries.delete(channel);
      clearTimeout(entry.gapTimer);
      clearTimeout(entry.retryTimer);
      for (const handle of entry.handles) handle.settle?.reject(error);
    }
    this.host.error(error);
  }

  /** The client closed for good: every pending `ready` rejects with `error`. */
  end(error: RtgwError): void {
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.gapTimer);
      clearTimeout(entry.retryTimer);
      for (const handle of entry.handles) handle.settle?.reject(error);
    }
    this.#entries.clear();
  }

  #subscribe(entry: ChannelEntry): void {
    entry.stream.resubscribing();
    const point = entry.stream.resumePoint();
    const channel = entry.channel;
    this.host.request(
      "subscribe",
      (id) => ({ type: "subscribe", id, channel, ...point, ...(entry.presence ? { presence: true } : {}) }),
      {
        resolve: (ack) => {
          if (this.#entries.get(channel) !== entry) return;
          entry.retry.reset();
          const outputs = entry.stream.onAck(ack);
          entry.acked = { offset: ack.offset, epoch: ack.epoch, recovered: ack.recovered };
          for (const handle of entry.handles) {
            handle.settle?.resolve(entry.acked);
            handle.settle = undefined;
          }
          this.#dispatch(entry, outputs);
        },
        reject: (error) => {
          if (this.#entries.get(channel) !== entry) return;
          if (error.code === "timeout" || error.code === "disconnected") return; // redone on reconnect
          const refused = new RtgwError(error.code, error.message, error.source, { channel });
          if (!TERMINAL_ERROR_CODES.has(error.code)) {
            // Refused for now (the gateway's broker is down, a limit): the subscription stands; ask again.
            this.host.error(refused);
            clearTimeout(entry.retryTimer);
            entry.retryTimer = setTimeout(() => {
              entry.retryTimer = undefined;
              if (this.#entries.get(channel) === entry && this.host.isOpen()) this.#subscribe(entry);
            }, entry.retry.next());
            return;
          }
          this.#entries.delete(channel);
          clearTimeout(entry.gapTimer);
          for (const handle of entry.handles) handle.settle?.reject(refused);
          this.host.error(refused);
        },
      },
    );
  }

  /** The gateway ended this channel's subscription: forget it (no resubscribe). False when it was not held. */
  serverUnsubscribed(channel: string): boolean {
    const entry = this.#entries.get(channel);
    if (!entry) return false;
    this.#entries.delete(channel);
    clearTimeout(entry.gapTimer);
    clearTimeout(entry.retryTimer);
    const ended = new RtgwError("unsubscribed", `the server unsubscribed ${channel}`, "server", { channel });
    for (const handle of entry.handles) handle.settle?.reject(ended);
    return true;
  }

  #unsubscribe(entry: ChannelEntry, handle: SubscriptionHandle): void {
    if (!entry.handles.delete(handle)) return;
    handle.settle?.reject(new RtgwError("closed", "unsubscribed before the gateway answered", "client"));
    handle.settle = undefined;
    if (entry.handles.size > 0 || this.#entries.get(entry.channel) !== entry) return;
    this.#entries.delete(entry.channel);
    clearTimeout(entry.gapTimer);
    clearTimeout(entry.retryTimer);
    if (this.host.isOpen()) {
      const channel = entry.channel;
      this.host.request("unsubscribe", (id) => ({ type: "unsubscribe", id, channel }), {
        resolve: () => {},
        reject: () => {},
      });
    }
  }

  #dispatch(entry: ChannelEntry, outputs: StreamOutput<JsonValue>[]): void {
    for (const output of outputs) {
      if (output.kind === "resync") {
        this.host.resync({
          channel: entry.channel,
          reason: output.reason,
          offset: output.offset,
          epoch: output.epoch,
          previousOffset: output.previousOffset,
        });
        continue;
      }
      const meta: MessageMeta = { channel: entry.channel, offset: output.offset, epoch: entry.stream.epoch };
      for (const handle of [...entry.handles]) {
        try {
          handle.handler(output.data, meta);
        } catch (cause) {
          this.host.error(
            new RtgwError("handler", "a message handler threw", "client", { channel: entry.channel, cause }),
          );
        }
      }
    }
    if (entry.stream.hasGap && entry.gapTimer === undefined) {
      entry.gapTimer = setTimeout(() => {
        entry.gapTimer = undefined;
        if (this.#entries.get(entry.channel) === entry) this.#dispatch(entry, entry.stream.skipGap());
      }, this.host.gapTimeoutMs);
    } else if (!entry.stream.hasGap && entry.gapTimer !== undefined) {
      clearTimeout(entry.gapTimer);
      entry.gapTimer = undefined;
    }
  }
}
