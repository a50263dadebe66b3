// The SDK's SSE fallback, a module of its own so that only applications that fall back ship it:
//
//   import { connect } from ".../client/src/index.js";
//   import { SseSocket } from ".../client/src/sse.js";
//   connect(url, { WebSocket, transports: ["websocket", "sse"], SSE: SseSocket });
export { type SseEvent, SseParser } from "./sse-parser.js";
export { SseSocket, sseUrl } from "./sse-socket.js";
