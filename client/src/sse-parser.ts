// The text/event-stream format (WHATWG HTML, server-sent events), parsed incrementally: Node 20 has no
// EventSource, and the SDK reads its SSE fallback with fetch() everywhere (headers for the token, its own
// reconnects). Feed decoded text as it arrives; complete events come out.

export interface SseEvent {
  /** "message" when the event named none. */
  event: string;
  data: string;
  /** The stream's last event id after this event (ids persist until another sets them). */
  id: string;
  retry?: number;
}

export class SseParser {
  #buffer = "";
  #event = "";
  #data: string[] = [];
  #id = "";
  #retry: number | undefined;

  get lastEventId(): string {
    return this.#id;
  }

  feed(text: string): SseEvent[] {
    this.#buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (!match || (match[0] === "\r" && match.index === this.#buffer.length - 1)) return out;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      if (line === "") {
        if (this.#data.length > 0) {
          const event: SseEvent = {
            event: this.#event || "message",
            data: this.#data.join("\n"),
            id: this.#id,
          };
          if (this.#retry !== undefined) event.retry = this.#retry;
          out.push(event);
        }
        this.#event = "";
        this.#data = [];
        this.#retry = undefined;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.#data.push(value);
      else if (field === "event") this.#event = value;
      else if (field === "id" && !value.includes("\0")) this.#id = value;
      else if (field === "retry" && /^\d+$/.test(value)) this.#retry = Number(value);
    }
  }
}
