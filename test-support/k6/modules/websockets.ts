// "k6/websockets": the browser-style WebSocket on the VU's event loop, with k6's event model (xk6-websockets):
// - open → onopen; text frames → onmessage with a string `data` (dropped once the socket is not OPEN);
// - a failed connect → onerror (event.error) then onclose;
// - a close by the server with a code other than 1000/1001 (e.g. 1012 on a drain, 1006 on a cut) → onerror,
//   then onclose; a normal close → onclose only;
// - send() when not OPEN throws InvalidStateError; close() starts the close handshake, onclose follows.
// An open socket keeps the iteration alive; an interrupted iteration drops its sockets without running handlers.
// Metrics: ws_sessions, ws_connecting, ws_session_duration, ws_msgs_sent, ws_msgs_received.
import { WebSocket as Socket } from "ws";
import { Unsupported } from "../unsupported.js";
import type { VirtualUser } from "../vu.js";
import { refuseArgument } from "./strict.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const EVENTS = ["open", "message", "error", "close"] as const;
type EventType = (typeof EVENTS)[number];
type Listener = (event: Record<string, unknown>) => void;

export function websocketsModule(vu: VirtualUser): Record<string, unknown> {
  const run = vu.run;

  class WebSocket {
    readonly url: string;
    readonly bufferedAmount = 0;
    private state = CONNECTING;
    private type = "";
    private readonly listeners: Record<EventType, Listener[]> = {
      open: [],
      message: [],
      error: [],
      close: [],
    };
    private readonly on: Partial<Record<EventType, Listener>> = {};
    private readonly socket: Socket;

    constructor(url: string, protocols?: unknown, params?: unknown) {
      const scope = vu.scope;
      if (!scope || vu.inInit) throw new Error("WebSocket is not available in the init context");
      refuseArgument("WebSocket protocols", protocols);
      refuseArgument("WebSocket params", params);
      const parsed = new URL(String(url));
      if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
        throw new Error(
          `WebSocket requires url with scheme ws or wss, but got "${parsed.protocol.slice(0, -1)}"`,
        );
      }
      this.url = String(url);
      const started = performance.now();
      let openedAt = 0;
      run.add(run.builtin.ws_sessions, 1);
      const socket = new Socket(this.url, { handshakeTimeout: 60_000, perMessageDeflate: false });
      this.socket = socket;
      const handle = { kill: () => socket.terminate() };
      scope.hold(handle);
      let finished = false;
      const finish = (error: string | undefined) => {
        if (finished) return;
        finished = true;
        if (openedAt === 0) run.add(run.builtin.ws_connecting, performance.now() - started);
        else run.add(run.builtin.ws_session_duration, performance.now() - started);
        scope.callback(() => {
          this.state = CLOSED;
          if (error !== undefined) this.emit("error", { error });
          this.emit("close", {});
        });
        scope.release(handle);
      };
      socket.on("open", () => {
        openedAt = performance.now();
        run.add(run.builtin.ws_connecting, openedAt - started);
        scope.callback(() => {
          if (this.state !== CONNECTING) return;
          this.state = OPEN;
          this.emit("open", {});
        });
      });
      socket.on("message", (data, isBinary) => {
        scope.callback(() => {
          if (this.state !== OPEN) return;
          run.add(run.builtin.ws_msgs_received, 1);
          if (isBinary) throw new Unsupported("binary WebSocket messages");
          this.emit("message", { data: data.toString(), origin: this.url });
        });
      });
      socket.on("error", (err) => finish(err.message));
      socket.on("close", (code, reason) => {
        const unexpected = code !== 1000 && code !== 1001;
        finish(
          unexpected ? `websocket: close ${code}${reason.length ? `: ${reason.toString()}` : ""}` : undefined,
        );
      });
    }

    get readyState(): number {
      return this.state;
    }

    get binaryType(): string {
      return this.type;
    }

    set binaryType(value: string) {
      if (value !== "arraybuffer")
        throw new Error(`unknown binaryType ${value}, the supported one is arraybuffer.`);
      this.type = value;
    }

    send(message: unknown): void {
      if (this.state !== OPEN) throw new Error("InvalidStateError");
      if (typeof message !== "string") throw new Unsupported("sending a non-string WebSocket message");
      this.socket.send(message);
      run.add(run.builtin.ws_msgs_sent, 1);
    }

    close(code?: number, reason?: string): void {
      if (this.state === CLOSING || this.state === CLOSED) return;
      this.state = CLOSING;
      this.socket.close(code ?? 1000, reason ?? "");
    }

    ping(): void {
      throw new Unsupported("WebSocket.ping()");
    }

    addEventListener(type: string, listener: Listener): void {
      if (!EVENTS.includes(type as EventType)) throw new Unsupported(`WebSocket "${type}" events`);
      this.listeners[type as EventType].push(listener);
    }

    private emit(type: EventType, fields: Record<string, unknown>): void {
      const event = { type, target: this, timestamp: Date.now(), ...fields };
      const on = this.on[type];
      if (on) on(event);
      for (const listener of this.listeners[type]) listener(event);
    }

    set onopen(fn: Listener | null) {
      this.setOn("open", fn);
    }
    get onopen(): Listener | null {
      return this.on.open ?? null;
    }
    set onmessage(fn: Listener | null) {
      this.setOn("message", fn);
    }
    get onmessage(): Listener | null {
      return this.on.message ?? null;
    }
    set onerror(fn: Listener | null) {
      this.setOn("error", fn);
    }
    get onerror(): Listener | null {
      return this.on.error ?? null;
    }
    set onclose(fn: Listener | null) {
      this.setOn("close", fn);
    }
    get onclose(): Listener | null {
      return this.on.close ?? null;
    }
    set onping(_fn: Listener | null) {
      throw new Unsupported("WebSocket onping");
    }
    set onpong(_fn: Listener | null) {
      throw new Unsupported("WebSocket onpong");
    }

    private setOn(type: EventType, fn: Listener | null): void {
      if (fn === null || fn === undefined) delete this.on[type];
      else if (typeof fn !== "function") throw new TypeError(`a value for 'on${type}' should be callable`);
      else this.on[type] = fn;
    }
  }
  return { WebSocket };
}
