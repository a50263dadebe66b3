// One SSE stream as the hub sees a connection (connection.ts Socket): frames in, events out through a uWS
// HttpResponse. uWS tells an HTTP response's backpressure only as `write` returning false, so while the socket is
// not writable events wait here, counted: that count is the send buffer the slow-consumer bound applies to.
import type { HttpResponse } from "uWebSockets.js";
import { CloseCode } from "../../../protocol/index.js";
import type { Connection, Socket } from "../connection.js";
import { SseEncoder } from "./events.js";
import type { SseTopics } from "./topics.js";

export interface SseConnectionOptions {
  topics: SseTopics;
  maxBackpressureBytes: number;
  /** Past the bound: expected to end it (counted as a slow consumer, like a WebSocket). */
  onSlow: (s: SseConnection) => void;
  /** It ended (either side): the server forgets it, like a WebSocket's close handler. */
  onClosed: (s: SseConnection) => void;
}

export class SseConnection implements Socket {
  readonly encoder: SseEncoder;
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  private readonly joined = new Set<string>();
  private ended = false;
  /** uWS refused a write: later events wait in `queue` until the socket drains. */
  private blocked = false;

  constructor(
    private readonly res: HttpResponse,
    private readonly conn: Connection,
    single: boolean,
    private readonly o: SseConnectionOptions,
  ) {
    this.encoder = new SseEncoder(single);
    res.onWritable(() => {
      this.flush();
      return true;
    });
  }

  getUserData(): Connection {
    return this.conn;
  }

  /** A frame from the hub (a topic publish or a direct send). 0: sent, 1: buffered, 2: dropped (ended). */
  send(frame: string): number {
    if (this.ended) return 2;
    return this.write(this.encoder.frame(frame));
  }

  /** Raw event-stream text (the route's own events: subscribed, heartbeats). */
  write(text: string): number {
    if (this.ended) return 2;
    if (text === "") return 0;
    if (this.blocked) {
      this.queue.push(text);
      this.queuedBytes += Buffer.byteLength(text);
      if (this.queuedBytes > this.o.maxBackpressureBytes) this.o.onSlow(this);
      return 1;
    }
    // A refused write was still taken whole by uWS; what comes after it waits here until onWritable.
    if (!this.corkedWrite(text)) this.blocked = true;
    return this.blocked ? 1 : 0;
  }

  /** uWS wants every write outside a request handler corked (nested corks are fine). */
  private corkedWrite(text: string): boolean {
    let ok = false;
    this.res.cork(() => {
      ok = this.res.write(text);
    });
    return ok;
  }

  private flush(): void {
    this.blocked = false;
    while (this.queue.length > 0 && !this.ended) {
      const text = this.queue.shift() as string;
      this.queuedBytes -= Buffer.byteLength(text);
      if (!this.corkedWrite(text)) {
        this.blocked = true;
        return;
      }
    }
  }

  subscribe(topic: string): boolean {
    this.joined.add(topic);
    this.o.topics.add(topic, this);
    return true;
  }

  unsubscribe(topic: string): boolean {
    this.o.topics.remove(topic, this);
    return this.joined.delete(topic);
  }

  getBufferedAmount(): number {
    return this.queuedBytes;
  }

  cork(cb: () => void): void {
    if (this.ended) cb();
    else this.res.cork(cb);
  }

  /**
   * End the stream with a `close` event naming the WebSocket close code it stands for. A slow consumer is cut
   * at once instead: what waits here would only grow, and its reconnect resumes by Last-Event-ID anyway.
   */
  end(code: number = CloseCode.Normal, reason = ""): void {
    if (this.ended) return;
    if (code === CloseCode.SlowConsumer) {
      this.close();
      return;
    }
    this.cork(() => {
      for (const text of this.queue) this.res.write(text);
      this.res.write(SseEncoder.close(code, reason));
      this.res.end();
    });
    this.finish();
  }

  /** Cut the connection now (uWS runs the abort handler, which finds it ended). */
  close(): void {
    if (this.ended) return;
    this.finish();
    this.res.close();
  }

  /** The client went away (the route's onAborted). */
  aborted(): void {
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    for (const topic of this.joined) this.o.topics.remove(topic, this);
    this.joined.clear();
    this.o.onClosed(this);
  }
}
