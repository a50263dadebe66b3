// An SSE stream for tests: fetch() GET /sse, every event parsed (the SDK's parser) and kept in order.
//
//   const s = await openSse(`${gw.url}/sse?channel=a`, { "last-event-id": "e1:4" });
//   await s.until("3 messages", (events) => events.filter((e) => e.event === "message").length === 3);
//   s.close();  // aborts; `ended` resolves when the body ends (server side or by close())
import { type SseEvent, SseParser } from "../client/src/sse-parser.js";
import { until } from "./wait.js";

export interface SseStream {
  status: number;
  /** The JSON body of a refused request (4xx/5xx). */
  error: { error: string; message: string; channel?: string } | undefined;
  events: SseEvent[];
  /** Everything received, comments included. */
  raw(): string;
  until(what: string, check: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Data of the `message` events, parsed. */
  messages(): Array<{ channel: string; offset: number; data: unknown; epoch?: string }>;
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  let raw = "";
  const parser = new SseParser();
  if (!res.ok || !res.body) {
    const error = (await res.json()) as { error: string; message: string; channel?: string };
    return {
      status: res.status,
      error,
      events,
      raw: () => raw,
      until: async () => {
        throw new Error(`stream refused with ${res.status}`);
      },
      messages: () => [],
      ended: Promise.resolve(),
      close: () => {},
    };
  }
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const text = decoder.decode(value, { stream: true });
        raw += text;
        events.push(...parser.feed(text));
      }
    } catch {
      // aborted or cut
    }
  })();
  return {
    status: res.status,
    error: undefined,
    events,
    raw: () => raw,
    until: (what, check, timeoutMs = 10_000) => until(what, () => check(events), timeoutMs),
    messages: () => events.filter((e) => e.event === "message").map((e) => JSON.parse(e.data)),
    ended,
    close: () => abort.abort(),
  };
}
