// The WebSocket the client drives: the browser's (or Node 22+'s) global one, or any constructor with the
// WHATWG shape passed in, e.g. the `ws` package's in Node 20.

/** The handler properties are declared as methods so that a constructor with richer event types (ws, DOM) fits. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: { handle(event: unknown): void }["handle"] | null;
  onmessage: { handle(event: { data: unknown }): void }["handle"] | null;
  onclose: { handle(event: { code: number; reason: string }): void }["handle"] | null;
  onerror: { handle(event: unknown): void }["handle"] | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export const OPEN = 1;

export function resolveWebSocket(injected: WebSocketConstructor | undefined): WebSocketConstructor {
  if (injected) return injected;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  throw new TypeError(
    "no WebSocket available: pass one, e.g. connect(url, { WebSocket: (await import('ws')).WebSocket })",
  );
}

const decoder = new TextDecoder();

/** The text of a message event's data (ws may hand over a Buffer, browsers an ArrayBuffer for binary). */
export function messageText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data)) return decoder.decode(data);
  return undefined;
}

/**
 * ws(s) URL with the token as `?token=` (browsers cannot set an Authorization header on an upgrade), or with
 * `?auth=frame` when the token goes in the first frame instead (out of proxies' and servers' URL logs).
 */
export function socketUrl(url: string, token: string | undefined, tokenIn: "url" | "frame" = "url"): string {
  const parsed = new URL(url);
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`gateway URL must be ws://, wss://, http:// or https://, got ${url}`);
  }
  if (token !== undefined && tokenIn === "frame") parsed.searchParams.set("auth", "frame");
  else if (token !== undefined) parsed.searchParams.set("token", token);
  return parsed.toString();
}

/**
 * The SSE fallback (`SseSocket` from client/src/sse.ts): given the gateway URL as passed to connect() and the
 * token. Injected, so an application that never falls back does not ship it.
 */
export type SseConstructor = new (url: string, token: string | undefined) => WebSocketLike;
