// The pure core of an SSE stream: the WebSocket frames the hub hands a connection, turned into `text/event-stream`
// events. Message events carry the WebSocket message frame's JSON as their data and, as id, where the stream stands
// (protocol/sse.ts), so that Last-Event-ID resumes each channel exactly after what was delivered. It also guards
// that: nothing at or below a channel's position in its epoch goes out twice, and a resync moves the position.
import {
  encodeMessage,
  encodeSseId,
  type MessageFrame,
  type ServerFrame,
  type SsePosition,
} from "../../../protocol/index.js";

/** A comment line: keeps proxies from cutting an idle stream (and EventSource ignores it). */
export const HEARTBEAT = ":\n\n";

/** One event. Multi-line data becomes several `data:` lines (EventSource joins them back with `\n`). */
export function sseEvent(
  event: string | undefined,
  id: string | undefined,
  data: string,
  retryMs?: number,
): string {
  let out = event === undefined ? "" : `event: ${event}\n`;
  if (id !== undefined && id !== "") out += `id: ${id}\n`;
  if (retryMs !== undefined) out += `retry: ${retryMs}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

type Frame = ServerFrame | MessageFrame[];

export class SseEncoder {
  private readonly positions = new Map<string, SsePosition>();

  /** `single`: the stream was opened for one channel, so ids take the `<epoch>:<offset>` form. */
  constructor(private readonly single: boolean) {}

  private id(): string {
    return encodeSseId(this.positions, this.single);
  }

  /** Where the stream stands on `channel` (for tests and the route). */
  position(channel: string): SsePosition | undefined {
    return this.positions.get(channel);
  }

  /**
   * The subscribe's answer (the WebSocket ack's fields) as a `subscribed` event, its id at `start` (where the
   * replay begins). A resume history could not cover (`recovered: false`) is followed by a `resync` event at the
   * channel's position: the stream continues after it, and the rest of the history is not sent.
   */
  subscribed(
    channel: string,
    position: SsePosition,
    recovered: boolean | undefined,
    start: SsePosition,
  ): string {
    const at = recovered === false ? position : start;
    this.positions.set(channel, { epoch: at.epoch, offset: at.offset });
    const ack = { type: "subscribed", channel, offset: position.offset, epoch: position.epoch, recovered };
    let out = sseEvent("subscribed", this.id(), JSON.stringify(ack));
    if (recovered === false) {
      const resync = { type: "resync", channel, epoch: position.epoch, offset: position.offset, recovered };
      out += sseEvent("resync", this.id(), JSON.stringify(resync));
    }
    return out;
  }

  /** One frame the hub sent (a frame or a batch) as events; "" when nothing in it is for this stream. */
  frame(text: string): string {
    const parsed = JSON.parse(text) as Frame;
    if (Array.isArray(parsed)) return parsed.map((m) => this.message(m)).join("");
    switch (parsed.type) {
      case "message":
        return this.message(parsed);
      case "resync": {
        const p = this.positions.get(parsed.channel);
        if (!p || (p.epoch === parsed.epoch && parsed.offset <= p.offset)) return "";
        this.positions.set(parsed.channel, { epoch: parsed.epoch, offset: parsed.offset });
        return sseEvent("resync", this.id(), text);
      }
      case "reconnect":
        // `retry`: a plain EventSource then waits the jittered afterMs too before it reconnects.
        return sseEvent("reconnect", undefined, text, parsed.afterMs);
      case "unsubscribed":
        this.positions.delete(parsed.channel);
        return sseEvent("unsubscribed", undefined, text);
      default:
        return sseEvent(parsed.type, undefined, text);
    }
  }

  private message(m: MessageFrame): string {
    const p = this.positions.get(m.channel);
    if (!p) return "";
    const epoch = m.epoch ?? p.epoch;
    if (epoch === p.epoch && m.offset <= p.offset) return "";
    this.positions.set(m.channel, { epoch, offset: m.offset });
    return sseEvent(
      undefined,
      this.id(),
      encodeMessage(m.channel, m.offset, JSON.stringify(m.data), m.epoch),
    );
  }

  /** The `close` event that ends a stream, with the WebSocket close code it stands for. */
  static close(code: number, reason: string): string {
    return sseEvent("close", undefined, JSON.stringify({ type: "close", code, reason }));
  }
}
