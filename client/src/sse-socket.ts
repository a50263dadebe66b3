// The SSE fallback behind the WebSocket interface the client drives (transport.ts WebSocketLike): subscribe and
// unsubscribe frames become one `GET /sse` stream with every channel, reopened when the set changes and resumed
// by Last-Event-ID (protocol/sse.ts), so the client's recovery code is the WebSocket's. Its events are handed on
// as the WebSocket frames they carry; `subscribed` answers the subscribe. What needs the client→server direction
// (publish, presence, refresh) is answered with an error frame: over SSE only the server API can publish.
import {
  type ClientFrame,
  encodeFrame,
  encodeSseId,
  parseSseId,
  type ServerFrame,
  type SsePosition,
} from "../../protocol/index.js";
import { SseParser } from "./sse-parser.js";
import type { WebSocketLike } from "./transport.js";

/** The SSE endpoint for a gateway URL: ws(s)→http(s), a trailing /ws → /sse (else /sse appended). */
export function sseUrl(url: string): string {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === "wss:" || parsed.protocol === "https:" ? "https:" : "http:";
  parsed.pathname = `${parsed.pathname.replace(/\/ws$/, "").replace(/\/$/, "")}/sse`;
  parsed.search = "";
  return parsed.toString();
}

interface Wanted {
  /** The subscribe frame waiting for its `subscribed` event. */
  ackId: number | undefined;
}

/** A stream silent this long is dead (the gateway sends a heartbeat every RTGW_SSE_HEARTBEAT_SECONDS, at most 30). */
const SILENT_MS = 45_000;
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

export class SseSocket implements WebSocketLike {
  readyState = CONNECTING;
  onopen: WebSocketLike["onopen"] = null;
  onmessage: WebSocketLike["onmessage"] = null;
  onclose: WebSocketLike["onclose"] = null;
  onerror: WebSocketLike["onerror"] = null;
  readonly #wanted = new Map<string, Wanted>();
  readonly #positions = new Map<string, SsePosition>();
  #stream: AbortController | undefined;
  #reopen: ReturnType<typeof setTimeout> | undefined;

  /** The stream's URL (sseUrl of the gateway URL). */
  readonly url: string;

  constructor(
    gatewayUrl: string,
    private readonly token: string | undefined,
  ) {
    this.url = sseUrl(gatewayUrl);
    // Open once the gateway answers: a network that drops everything must not look connected. `no-cors`: a
    // cross-origin page gets an opaque answer, which still says the gateway is reachable.
    fetch(this.url.replace(/sse$/, "healthz"), { mode: "no-cors" }).then(
      (res) => {
        if (this.readyState !== CONNECTING) return;
        if (!res.ok && res.type !== "opaque") return this.#end(1006, `gateway answered ${res.status}`);
        this.readyState = OPEN;
        this.onopen?.({});
      },
      () => this.#end(1006, "gateway unreachable"),
    );
  }

  send(text: string): void {
    const frame = JSON.parse(text) as ClientFrame;
    switch (frame.type) {
      case "subscribe":
        this.#wanted.set(frame.channel, { ackId: frame.id });
        if (frame.since !== undefined && frame.epoch !== undefined)
          this.#positions.set(frame.channel, { epoch: frame.epoch, offset: frame.since });
        else this.#positions.delete(frame.channel);
        this.#schedule();
        return;
      case "unsubscribe":
        this.#wanted.delete(frame.channel);
        this.#positions.delete(frame.channel);
        this.#deliver({ type: "ack", id: frame.id });
        this.#schedule();
        return;
      case "ping":
        this.#deliver({ type: "pong", id: frame.id });
        return;
      default:
        this.#deliver({
          type: "error",
          id: frame.id,
          code: "bad_request",
          message: `${frame.type} is not possible over SSE (one-way): use the WebSocket, or the server API to publish`,
        });
    }
  }

  close(code = 1000, reason = ""): void {
    this.#end(code, reason);
  }

  #deliver(frame: ServerFrame): void {
    const text = encodeFrame(frame);
    queueMicrotask(() => this.onmessage?.({ data: text }));
  }

  #end(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    clearTimeout(this.#reopen);
    this.#stream?.abort();
    this.#stream = undefined;
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }

  /** Subscribes come in bursts (a reconnect resubscribes all): one stream for the lot. */
  #schedule(): void {
    clearTimeout(this.#reopen);
    this.#reopen = setTimeout(() => void this.#open(), 0);
  }

  async #open(): Promise<void> {
    this.#stream?.abort();
    this.#stream = undefined;
    if (this.readyState !== OPEN || this.#wanted.size === 0) return;
    const stream = new AbortController();
    this.#stream = stream;
    const channels = [...this.#wanted.keys()];
    const single = channels.length === 1 ? channels[0] : undefined;
    const positions = new Map<string, SsePosition>();
    for (const c of channels) {
      const p = this.#positions.get(c);
      if (p) positions.set(c, p);
    }
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (positions.size > 0) headers["last-event-id"] = encodeSseId(positions, single !== undefined);
    const query = channels.map((c) => `channel=${encodeURIComponent(c)}`).join("&");
    let closing: { code: number; reason: string } | undefined;
    let silent: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(silent);
      silent = setTimeout(() => stream.abort(), SILENT_MS);
    };
    try {
      watch();
      const res = await fetch(`${this.url}?${query}`, { headers, signal: stream.signal });
      if (!res.ok || !res.body) return this.#refused(res, stream);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done || stream !== this.#stream) break;
        watch();
        for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
          if (stream !== this.#stream) break;
          if (event.event === "close") closing = JSON.parse(event.data) as { code: number; reason: string };
          else this.#onEvent(event.event, event.data, event.id, single);
        }
      }
    } catch {
      // aborted (reopened, closed, or silent too long) or the network cut it
    } finally {
      clearTimeout(silent);
    }
    if (stream === this.#stream) this.#end(closing?.code ?? 1006, closing?.reason ?? "stream ended");
  }

  /** A refused stream: a forbidden channel fails its subscribe alone; anything else ends this socket. */
  async #refused(res: Response, stream: AbortController): Promise<void> {
    const body = (await res.json().catch(() => ({}))) as {
      error?: string;
      message?: string;
      channel?: string;
    };
    if (stream !== this.#stream) return;
    const wanted = body.channel === undefined ? undefined : this.#wanted.get(body.channel);
    if (res.status === 403 && body.channel !== undefined && wanted) {
      this.#wanted.delete(body.channel);
      this.#positions.delete(body.channel);
      if (wanted.ackId !== undefined)
        this.#deliver({
          type: "error",
          id: wanted.ackId,
          code: "forbidden",
          message: body.message ?? "forbidden",
        });
      return this.#open();
    }
    this.#end(1006, `SSE stream refused with ${res.status}${body.message ? `: ${body.message}` : ""}`);
  }

  #onEvent(name: string, data: string, id: string, single: string | undefined): void {
    if (id !== "") {
      const parsed = parseSseId(id, single);
      if (parsed.ok) for (const [channel, p] of parsed.positions) this.#positions.set(channel, p);
    }
    if (name === "unsubscribed") {
      const { channel } = JSON.parse(data) as { channel: string };
      this.#wanted.delete(channel);
      this.#positions.delete(channel);
    }
    if (name === "subscribed") {
      const ack = JSON.parse(data) as { channel: string; offset: number; epoch: string; recovered?: boolean };
      const wanted = this.#wanted.get(ack.channel);
      if (wanted?.ackId === undefined) return; // a reopened stream: this channel was answered before
      const { offset, epoch, recovered } = ack;
      this.#deliver({
        type: "ack",
        id: wanted.ackId,
        offset,
        epoch,
        ...(recovered === undefined ? {} : { recovered }),
      });
      wanted.ackId = undefined;
      return;
    }
    queueMicrotask(() => this.onmessage?.({ data }));
  }
}
