// A WebSocket client with nothing but what load needs: a raw TCP socket, the upgrade handshake, and the
// frame codec. Handlers are one shared object per process (no closures per connection), and an idle
// connection holds no buffers, so tens of thousands fit in one worker (~4.7 KB each vs ~8.4 KB for `ws`).
import net from "node:net";
import {
  decodeClose,
  encodeClose,
  encodeFrame,
  FrameReader,
  type FrameSink,
  MessageAssembler,
  Opcode,
} from "./frame-codec.js";
import { newSecWebSocketKey, parseUpgradeResponse, upgradeRequest } from "./handshake.js";

export interface LeanTarget {
  host: string;
  port: number;
  /** Path and query, e.g. `/ws?token=...`. */
  path: string;
}

export function parseWsUrl(url: string): LeanTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== "ws:") throw new Error(`only ws:// targets are supported, got ${url}`);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 80,
    path: `${parsed.pathname}${parsed.search}`,
  };
}

export interface LeanHandlers<T> {
  open(socket: LeanSocket<T>): void;
  /** One whole message (fragments joined). Text is left as bytes: counting needs no decode. */
  message(socket: LeanSocket<T>, payload: Buffer, binary: boolean): void;
  /**
   * Optional peek at each unfragmented text frame, in place, before `message`: return how many messages it
   * held to take it (it is then not passed to `message`), or 0 to let it through. Fan-out counting with no
   * allocation per frame.
   */
  count?(socket: LeanSocket<T>, buffer: Buffer, start: number, end: number): number;
  /** Always called exactly once per socket, after open or instead of it. `code` 1006: no close frame. */
  close(socket: LeanSocket<T>, code: number, reason: string, wasOpen: boolean): void;
}

export interface LeanOptions {
  localAddress?: string;
  headers?: Readonly<Record<string, string>>;
  /** Give up on TCP connect + handshake after this long. */
  handshakeTimeoutMs?: number;
}

enum State {
  Connecting = 0,
  Open = 1,
  Closing = 2,
  Closed = 3,
}

export class LeanSocket<T> implements FrameSink {
  private readonly socket: net.Socket;
  private state = State.Connecting;
  private key: string | null;
  private head: Buffer | null = null;
  private readonly reader = new FrameReader();
  private readonly assembler = new MessageAssembler();
  private timer: NodeJS.Timeout | null;

  constructor(
    target: LeanTarget,
    private readonly handlers: LeanHandlers<T>,
    /** The caller's state for this connection. */
    public owner: T,
    options: LeanOptions = {},
  ) {
    this.key = newSecWebSocketKey();
    const connectOptions: net.NetConnectOpts = { host: target.host, port: target.port };
    if (options.localAddress) connectOptions.localAddress = options.localAddress;
    this.socket = net.connect(connectOptions);
    this.socket.setNoDelay(true);
    const host = `${target.host}:${target.port}`;
    const request = upgradeRequest(host, target.path, this.key, options.headers);
    (this.socket as OwnedSocket).lean = this as LeanSocket<unknown>;
    this.socket.once("connect", () => this.socket.write(request));
    this.socket.on("data", onSocketData);
    this.socket.on("error", onSocketError);
    this.socket.on("close", onSocketClose);
    this.timer = setTimeout(onHandshakeTimeout, options.handshakeTimeoutMs ?? 15_000, this);
  }

  /** Read through a getter: handlers called above may have closed the socket (TS cannot see that). */
  private get isClosed(): boolean {
    return this.state === State.Closed;
  }

  get isOpen(): boolean {
    return this.state === State.Open;
  }

  send(text: string): boolean {
    if (this.state !== State.Open) return false;
    return this.socket.write(encodeFrame(Opcode.Text, Buffer.from(text, "utf8")));
  }

  /** Start the closing handshake; the peer's close frame (or a timeout) ends it. */
  close(code = 1000, reason = ""): void {
    if (this.state === State.Open) {
      this.state = State.Closing;
      this.socket.write(encodeClose(code, reason));
      this.timer = setTimeout(onCloseTimeout, 2_000, this, code, reason);
    } else if (this.state === State.Connecting) {
      this.finish(1006, "closed before open");
    }
  }

  /** Drop the TCP connection without a close frame. */
  destroy(): void {
    this.finish(1006, "destroyed");
  }

  /** @internal */
  onData(chunk: Buffer): void {
    if (this.state === State.Connecting) {
      const received: Buffer = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const result = parseUpgradeResponse(received, this.key ?? "");
      if (result.state === "incomplete") {
        this.head = Buffer.from(received);
        return;
      }
      this.head = null;
      this.key = null;
      if (result.state === "rejected") {
        this.finish(1006, `upgrade rejected: ${result.status} ${result.reason}`);
        return;
      }
      this.clearTimer();
      this.state = State.Open;
      this.handlers.open(this);
      if (result.rest.length === 0) return;
      chunk = result.rest;
    }
    if (this.state === State.Closed) return;
    try {
      this.reader.read(chunk, this);
    } catch (error) {
      this.failProtocol(error);
    }
  }

  /** @internal The reader's sink: one frame, as a range of `buffer` valid during the call. */
  onFrame(fin: boolean, opcode: number, buffer: Buffer, start: number, end: number): boolean {
    if (this.isClosed) return false;
    if (opcode === Opcode.Text && fin && this.handlers.count && !this.assembler.fragmented) {
      if (this.handlers.count(this, buffer, start, end) > 0) return true;
    }
    const message = this.assembler.accept({ fin, opcode, payload: buffer.subarray(start, end) });
    if (message === null) return true;
    if (message.kind !== "control") {
      this.handlers.message(this, message.payload, message.kind === "binary");
      return !this.isClosed;
    }
    const control = message.frame;
    if (control.opcode === Opcode.Ping) {
      this.socket.write(encodeFrame(Opcode.Pong, Buffer.from(control.payload)));
    } else if (control.opcode === Opcode.Close) {
      const { code, reason } = decodeClose(control.payload);
      if (this.state === State.Open) this.socket.write(encodeClose(code === 1005 ? 1000 : code));
      this.finish(code, reason);
      return false;
    }
    return true;
  }

  private failProtocol(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (this.state === State.Open) this.socket.write(encodeClose(1002, reason.slice(0, 100)));
    this.finish(1002, reason);
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** @internal */
  finish(code: number, reason: string): void {
    if (this.state === State.Closed) return;
    const wasOpen = this.state !== State.Connecting;
    this.state = State.Closed;
    this.clearTimer();
    this.socket.destroy();
    this.handlers.close(this, code, reason, wasOpen);
  }
}

// Shared listeners: `this` is the net.Socket, which carries its LeanSocket, so no closure is made per connection.
type OwnedSocket = net.Socket & { lean: LeanSocket<unknown> };
function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this.lean.onData(chunk);
}
function onSocketError(this: OwnedSocket): void {
  this.lean.finish(1006, "socket error");
}
function onSocketClose(this: OwnedSocket): void {
  this.lean.finish(1006, "connection lost");
}
function onHandshakeTimeout(socket: LeanSocket<unknown>): void {
  socket.finish(1006, "handshake timeout");
}
function onCloseTimeout(socket: LeanSocket<unknown>, code: number, reason: string): void {
  socket.finish(code, reason);
}
