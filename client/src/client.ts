// The client shell: one WebSocket at a time, reconnected with full-jitter backoff (or after the gateway's
// afterMs on a drain), every channel re-subscribed with since/epoch, each message handed over once and in
// order. The decisions live in the pure cores: backoff.ts, channel-stream.ts, requests.ts; the channels in
// subscriptions.ts, the requests awaiting answers in outbox.ts.
import {
  decodeServerFrames,
  encodeFrame,
  isValidChannel,
  type PresenceMember,
  type ServerFrame,
  TERMINAL_CLOSE_CODES,
} from "../../protocol/index.js";
import { Backoff, DEFAULT_BACKOFF } from "./backoff.js";
import { RtgwError } from "./errors.js";
import { type ClientEvents, type ClientState, Emitter, type StateChange, type Transport } from "./events.js";
import { CLIENT_DEFAULTS, type ConnectOptions } from "./options.js";
import { Outbox } from "./outbox.js";
import {
  Channels,
  type JsonValue,
  type MessageHandler,
  type SubscribeOptions,
  type Subscription,
} from "./subscriptions.js";
import { refreshDelayMs, tokenExpiryMs } from "./token-refresh.js";
import {
  messageText,
  OPEN,
  resolveWebSocket,
  socketUrl,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./transport.js";
import { oneWayError, transportAfterFailure } from "./transport-choice.js";

export type { ClientEvents, ClientState, PresenceEvent, StateChange, Transport } from "./events.js";
export type { ConnectOptions } from "./options.js";
export type {
  JsonValue,
  MessageHandler,
  MessageMeta,
  ResyncEvent,
  SubscribeOptions,
  SubscribeResult,
  Subscription,
} from "./subscriptions.js";

const encoder = new TextEncoder();

export function connect(url: string, options: ConnectOptions = {}): Client {
  return new Client(url, options);
}

export class Client extends Emitter<ClientEvents> {
  #state: ClientState = "connecting";
  #socket: WebSocketLike | undefined;
  #generation = 0;
  #userClosed = false;
  #connectionId: string | undefined;
  #node: string | undefined;
  /** Undefined when the client uses SSE only. */
  readonly #Socket: WebSocketConstructor | undefined;
  readonly #transports: readonly Transport[];
  #transport: Transport;
  /** WebSocket attempts in a row that closed before they opened (the SSE fallback counts them). */
  #wsFailures = 0;
  readonly #backoff: Backoff;
  readonly #settings: typeof CLIENT_DEFAULTS;
  readonly #channels: Channels;
  readonly #outbox: Outbox;
  #drainNotice: { at: number; afterMs: number } | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** The token the current connection holds. */
  #token: string | undefined;
  /** False between open and the ack of the first-frame token (`tokenIn: "frame"`): nothing else goes out. */
  #authed = false;
  /** Channels the gateway subscribed this connection to itself (`subscribed` frames); cleared with the socket. */
  readonly #serverChannels = new Set<string>();

  constructor(
    readonly url: string,
    private readonly options: ConnectOptions = {},
  ) {
    super();
    this.#transports = options.transports ?? ["websocket"];
    if (this.#transports.length === 0) throw new TypeError("transports must name at least one transport");
    this.#transport = this.#transports[0] as Transport;
    this.#Socket = this.#transports.includes("websocket") ? resolveWebSocket(options.WebSocket) : undefined;
    if (this.#transports.includes("sse") && !options.SSE)
      throw new TypeError(
        'transports with "sse" need SSE: connect(url, { SSE: SseSocket }) from the sse module',
      );
    this.#backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, options.random ?? Math.random);
    this.#settings = {
      stableAfterMs: options.stableAfterMs ?? CLIENT_DEFAULTS.stableAfterMs,
      requestTimeoutMs: options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
      pingIntervalMs: options.pingIntervalMs ?? CLIENT_DEFAULTS.pingIntervalMs,
      maxQueuedPublishes: options.maxQueuedPublishes ?? CLIENT_DEFAULTS.maxQueuedPublishes,
      maxMessageBytes: options.maxMessageBytes ?? CLIENT_DEFAULTS.maxMessageBytes,
      gapTimeoutMs: options.gapTimeoutMs ?? CLIENT_DEFAULTS.gapTimeoutMs,
      refreshAheadMs: options.refreshAheadMs ?? CLIENT_DEFAULTS.refreshAheadMs,
      sseAfterFailures: options.sseAfterFailures ?? CLIENT_DEFAULTS.sseAfterFailures,
    };
    this.#outbox = new Outbox({
      isOpen: () => this.#isOpen(),
      send: (text) => this.#socket?.send(text),
      timeoutMs: this.#settings.requestTimeoutMs,
      socketSuspect: () => this.#abandonSocket("request timed out"),
    });
    this.#channels = new Channels({
      request: (kind, frame, callbacks) => this.#outbox.request(kind, frame, callbacks),
      isOpen: () => this.#isOpen(),
      resync: (event) => this.emit("resync", event),
      error: (error) => this.emit("error", error),
      gapTimeoutMs: this.#settings.gapTimeoutMs,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      random: options.random ?? Math.random,
    });
    socketUrl(url, undefined); // a bad URL throws here, not inside a reconnect loop
    void this.#open();
  }

  get state(): ClientState {
    return this.#state;
  }
  /** The gateway's id for the current connection (from its welcome frame). */
  get connectionId(): string | undefined {
    return this.#connectionId;
  }
  /** The transport in use (or about to be): `sse` once the client fell back (see ConnectOptions.transports). */
  get transport(): Transport {
    return this.#transport;
  }
  /** The gateway node serving the current connection. */
  get node(): string | undefined {
    return this.#node;
  }

  /** Receive a channel's messages, each exactly once and in offset order, across reconnects. */
  subscribe(channel: string, handler: MessageHandler, options: SubscribeOptions = {}): Subscription {
    if (this.#userClosed || this.#state === "closed")
      throw new RtgwError("closed", "client is closed", "client");
    if (!isValidChannel(channel)) {
      throw new RtgwError("bad_request", `invalid channel name: ${JSON.stringify(channel)}`, "client", {
        channel,
      });
    }
    return this.#channels.add(channel, handler, options);
  }

  /**
   * Publish through the gateway; resolves with the message's offset. While disconnected the publish waits in a
   * bounded queue (maxQueuedPublishes) and is sent on reconnect; it times out requestTimeoutMs after this call.
   * Rejections: the gateway's code (forbidden, bad_request, rate_limited, unavailable, ...), or `queue_full`,
   * `timeout`, `disconnected` (sent, then the socket dropped: outcome unknown), `closed`.
   */
  publish(channel: string, data: JsonValue): Promise<{ offset: number }> {
    if (this.#userClosed || this.#state === "closed") {
      return Promise.reject(new RtgwError("closed", "client is closed", "client", { channel }));
    }
    if (this.#transport === "sse") return Promise.reject(oneWayError("publish", channel));
    if (!isValidChannel(channel)) {
      return Promise.reject(
        new RtgwError("bad_request", `invalid channel name: ${JSON.stringify(channel)}`, "client", {
          channel,
        }),
      );
    }
    // Measure the whole frame (the gateway's limit applies to it), with the widest id it could carry.
    const size = encoder.encode(
      encodeFrame({ type: "publish", id: Number.MAX_SAFE_INTEGER, channel, data }),
    ).length;
    if (size > this.#settings.maxMessageBytes) {
      return Promise.reject(
        new RtgwError(
          "bad_request",
          `message is ${size} bytes, above ${this.#settings.maxMessageBytes}`,
          "client",
          {
            channel,
          },
        ),
      );
    }
    if (!this.#isOpen()) {
      if (this.#outbox.queuedPublishes >= this.#settings.maxQueuedPublishes) {
        return Promise.reject(
          new RtgwError(
            "queue_full",
            `${this.#outbox.queuedPublishes} publishes already wait for a connection`,
            "client",
            {
              channel,
            },
          ),
        );
      }
    }
    return new Promise((resolve, reject) => {
      this.#outbox.request("publish", (id) => ({ type: "publish", id, channel, data }), {
        resolve: (ack) => {
          if (ack.offset === undefined)
            reject(new RtgwError("protocol", "publish ack without offset", "client"));
          else resolve({ offset: ack.offset });
        },
        reject,
      });
    });
  }

  /** Who is subscribed to a channel, across all gateway pods. */
  presence(channel: string): Promise<PresenceMember[]> {
    if (this.#userClosed || this.#state === "closed") {
      return Promise.reject(new RtgwError("closed", "client is closed", "client", { channel }));
    }
    if (this.#transport === "sse") return Promise.reject(oneWayError("presence", channel));
    return new Promise((resolve, reject) => {
      this.#outbox.request("presence", (id) => ({ type: "presence", id, channel }), {
        resolve: (ack) => resolve(ack.members ?? []),
        reject,
      });
    });
  }

  /** Close for good: pending requests reject with `closed`; no reconnect. */
  close(): void {
    if (this.#userClosed) return;
    this.#userClosed = true;
    const socket = this.#socket;
    this.#detach();
    if (socket) socket.close(1000, "client closed");
    this.#shutdown(undefined, 1000, "client closed");
  }

  // ---- connection lifecycle ----------------------------------------------------------------------

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    let token: string | undefined;
    try {
      const source = this.options.token;
      token = typeof source === "function" ? await source() : source;
    } catch (cause) {
      if (generation !== this.#generation || this.#userClosed) return;
      this.emit("error", new RtgwError("token", "token provider failed", "client", { cause }));
      this.#scheduleReconnect(1006, "token provider failed");
      return;
    }
    if (generation !== this.#generation || this.#userClosed) return;
    let socket: WebSocketLike;
    try {
      const Sse = this.options.SSE;
      socket =
        this.#transport === "sse" && Sse
          ? new Sse(this.url, token)
          : new (this.#Socket as WebSocketConstructor)(socketUrl(this.url, token, this.options.tokenIn));
    } catch (cause) {
      this.emit("error", new RtgwError("disconnected", "could not create a WebSocket", "client", { cause }));
      this.#scheduleReconnect(1006, "could not create a WebSocket");
      return;
    }
    this.#socket = socket;
    this.#token = token;
    socket.onopen = () => {
      if (socket === this.#socket) this.#onOpen();
    };
    socket.onmessage = (event) => {
      if (socket === this.#socket) this.#onData(event.data);
    };
    socket.onclose = (event) => {
      if (socket === this.#socket) this.#onClose(event.code, event.reason);
    };
    socket.onerror = () => {}; // a close event always follows and carries what we act on
  }

  #onOpen(): void {
    this.#setState({ state: "connected", previous: this.#state });
    this.#stableTimer = setTimeout(() => this.#backoff.reset(), this.#settings.stableAfterMs);
    if (this.#settings.pingIntervalMs > 0) {
      this.#pingTimer = setInterval(() => this.#ping(), this.#settings.pingIntervalMs);
    }
    if (this.#transport === "websocket") this.#wsFailures = 0;
    const token = this.#token;
    // Over SSE the token went in the stream request's Authorization header: there is no frame to send it in.
    if (this.options.tokenIn === "frame" && token !== undefined && this.#transport === "websocket") {
      // The gateway accepts nothing but this frame until it has verified the token; a bad one closes with 1008.
      this.#sendRefresh(token, () => this.#onAuthenticated());
    } else this.#onAuthenticated();
  }

  #onAuthenticated(): void {
    this.#authed = true;
    this.#channels.resubscribeAll();
    this.#outbox.flush();
    this.#scheduleRefresh();
  }

  /** Send `refresh` with `token` now (also before #authed); `done` runs on its ack. */
  #sendRefresh(token: string, done: () => void): void {
    const socket = this.#socket;
    const callbacks = {
      resolve: () => {
        if (socket !== this.#socket) return;
        this.#token = token;
        done();
      },
      reject: (error: RtgwError) => {
        if (socket === this.#socket && error.code !== "disconnected") this.emit("error", error);
      },
    };
    this.#outbox.request("refresh", (id) => ({ type: "refresh", id, token }), callbacks, true);
  }

  /** Ahead of the token's expiry, ask the token function for a new one and swap it in place. */
  #scheduleRefresh(): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    const source = this.options.token;
    // SSE has no refresh frame: at expiry the gateway ends the stream (4003) and the reconnect asks again.
    if (typeof source !== "function" || this.#token === undefined || this.#transport === "sse") return;
    const delay = refreshDelayMs(tokenExpiryMs(this.#token), Date.now(), this.#settings.refreshAheadMs);
    if (delay === undefined) return;
    const socket = this.#socket;
    this.#refreshTimer = setTimeout(async () => {
      this.#refreshTimer = undefined;
      let token: string;
      try {
        token = await source();
      } catch (cause) {
        // Not fatal: when the old token expires the gateway closes with 4003 and the reconnect asks again.
        this.emit("error", new RtgwError("token", "token provider failed", "client", { cause }));
        return;
      }
      if (socket === this.#socket && this.#isOpen()) this.#sendRefresh(token, () => this.#scheduleRefresh());
    }, delay);
  }

  #onClose(code: number, reason: string): void {
    const opened = this.#state === "connected";
    this.#detach();
    this.#outbox.failInFlight();
    if (this.#userClosed) return;
    if (TERMINAL_CLOSE_CODES.has(code)) {
      const error = new RtgwError(
        "terminal_close",
        `gateway closed the connection with ${code}${reason ? ` (${reason})` : ""}; not reconnecting`,
        "server",
        { closeCode: code },
      );
      this.#shutdown(error, code, reason);
      return;
    }
    this.#setState({ state: "disconnected", previous: this.#state, closeCode: code, closeReason: reason });
    if (!opened) this.#noteFailure();
    this.#scheduleReconnect(code, reason);
  }

  /** A WebSocket that closed before it opened counts towards the SSE fallback; enough in a row switch to it. */
  #noteFailure(): void {
    if (this.#transport !== "websocket") return;
    this.#wsFailures += 1;
    this.#transport = transportAfterFailure({
      transports: this.#transports,
      current: this.#transport,
      failuresInARow: this.#wsFailures,
      threshold: this.#settings.sseAfterFailures,
    });
  }

  #scheduleReconnect(code: number, reason: string): void {
    const notice = this.#drainNotice;
    this.#drainNotice = undefined;
    // A drain names when to come back; otherwise back off with full jitter.
    const delay = notice ? Math.max(0, notice.at + notice.afterMs - Date.now()) : this.#backoff.next();
    this.#setState({
      state: "reconnecting",
      previous: this.#state,
      retryInMs: delay,
      closeCode: code,
      closeReason: reason,
    });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#open();
    }, delay);
  }

  /** Stop listening to the current socket and every per-connection timer. */
  #detach(): void {
    const socket = this.#socket;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      // Keep swallowing errors: an abandoned socket may still fail (ws emits `error` when closed while
      // connecting), and an EventEmitter-based socket with no error listener would throw out of the process.
      socket.onerror = ignoreError;
    }
    this.#socket = undefined;
    this.#connectionId = undefined;
    this.#node = undefined;
    clearTimeout(this.#stableTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#refreshTimer);
    this.#stableTimer = undefined;
    this.#pingTimer = undefined;
    this.#refreshTimer = undefined;
    this.#authed = false;
    this.#serverChannels.clear();
    this.#channels.detach();
  }

  /** The socket looks dead (a ping or subscribe went unanswered): drop it and reconnect. */
  #abandonSocket(reason: string): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#detach();
    try {
      socket.close(4000, reason);
    } catch {
      // already closing
    }
    this.#onClose(4000, reason);
  }

  #shutdown(error: RtgwError | undefined, code: number, reason: string): void {
    this.#userClosed = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const closed = error ?? new RtgwError("closed", "client is closed", "client");
    this.#outbox.end(closed);
    this.#channels.end(closed);
    if (error) this.emit("error", error);
    this.#setState({ state: "closed", previous: this.#state, closeCode: code, closeReason: reason });
  }

  #setState(partial: Omit<StateChange, "transport">): void {
    const change: StateChange = { ...partial, transport: this.#transport };
    this.#state = change.state;
    this.emit("state", change);
  }

  #isOpen(): boolean {
    return (
      this.#socket !== undefined &&
      this.#socket.readyState === OPEN &&
      this.#state === "connected" &&
      this.#authed
    );
  }

  // ---- requests ----------------------------------------------------------------------------------

  #ping(): void {
    if (!this.#isOpen()) return;
    this.#outbox.request("ping", (id) => ({ type: "ping", id }), { resolve: () => {}, reject: () => {} });
  }

  // ---- inbound frames ----------------------------------------------------------------------------

  #onData(data: unknown): void {
    const text = messageText(data);
    let frames: ServerFrame[];
    try {
      if (text === undefined) throw new TypeError("binary frame");
      frames = decodeServerFrames(text);
    } catch (cause) {
      this.emit(
        "error",
        new RtgwError("protocol", "the gateway sent a frame this client cannot read", "client", { cause }),
      );
      return;
    }
    for (const frame of frames) this.#onFrame(frame);
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "message": {
        if (!this.#channels.message(frame.channel, frame.offset, frame.data, frame.epoch))
          if (this.#serverChannels.has(frame.channel))
            this.emit("message", { channel: frame.channel, offset: frame.offset, data: frame.data });
        return;
      }
      case "subscribed":
        // Server-side: held by the gateway for this connection only (the next one gets them from the backend again).
        this.#serverChannels.add(frame.channel);
        this.emit("subscribed", { channel: frame.channel, offset: frame.offset, epoch: frame.epoch });
        return;
      case "ack":
      case "pong": {
        const request = this.#outbox.settle(frame.id);
        if (!request) return;
        if (frame.type === "ack") request.resolve(frame);
        else request.resolve({ type: "ack", id: frame.id });
        return;
      }
      case "error": {
        const error = new RtgwError(frame.code, frame.message, "server");
        const request = frame.id === undefined ? undefined : this.#outbox.settle(frame.id);
        if (request) {
          request.reject(error);
        } else if (frame.channel !== undefined) {
          this.#channels.endOne(
            frame.channel,
            new RtgwError(frame.code, frame.message, "server", { channel: frame.channel }),
          );
        } else {
          this.emit("error", error);
        }
        return;
      }
      case "welcome":
        this.#connectionId = frame.connectionId;
        this.#node = frame.node;
        this.emit("welcome", { connectionId: frame.connectionId, node: frame.node });
        return;
      case "reconnect":
        this.#drainNotice = { at: Date.now(), afterMs: frame.afterMs };
        this.emit("reconnect", { afterMs: frame.afterMs, reason: frame.reason });
        return;
      case "resync": {
        this.#channels.serverResync(frame.channel, frame.offset, frame.epoch);
        return;
      }
      case "unsubscribed": {
        this.#serverChannels.delete(frame.channel);
        // The server ended the subscription: drop it (no resubscribe on reconnect) and say so.
        if (this.#channels.serverUnsubscribed(frame.channel))
          this.emit(
            "error",
            new RtgwError(
              "unsubscribed",
              `the server unsubscribed ${frame.channel} (${frame.reason})`,
              "server",
              {
                channel: frame.channel,
              },
            ),
          );
        return;
      }
      case "join":
      case "leave":
        this.emit("presence", { channel: frame.channel, kind: frame.type, member: frame.member });
        return;
    }
  }

  protected override onListenerError(event: keyof ClientEvents, error: unknown): void {
    if (event === "error") return; // an error listener that throws has nowhere left to report to
    this.emit(
      "error",
      new RtgwError("handler", `a ${String(event)} listener threw`, "client", { cause: error }),
    );
  }
}

function ignoreError(): void {}
