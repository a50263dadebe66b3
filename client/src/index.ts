// realtime-gateway client SDK: connect, subscribe, publish, presence, state events.
// ESM, no Node-only imports: runs in browsers and, with an injected WebSocket (e.g. `ws`), in Node 20. Falls
// back to one-way SSE (fetch-based, any runtime with fetch) with `transports: ["websocket", "sse"]`.
export type { ErrorCode, PresenceMember } from "../../protocol/index.js";
export { CloseCode } from "../../protocol/index.js";
export { type BackoffPolicy, backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
export type { ResyncReason } from "./channel-stream.js";
export {
  Client,
  type ClientEvents,
  type ClientState,
  type ConnectOptions,
  connect,
  type JsonValue,
  type MessageHandler,
  type MessageMeta,
  type PresenceEvent,
  type ResyncEvent,
  type StateChange,
  type SubscribeOptions,
  type SubscribeResult,
  type Subscription,
  type Transport,
} from "./client.js";
export { type ClientErrorCode, RtgwError, type RtgwErrorCode } from "./errors.js";
export type { WebSocketConstructor, WebSocketLike } from "./transport.js";
