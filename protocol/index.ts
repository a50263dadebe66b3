// The wire protocol: the one home of every frame, error code and close code, one file per concept.
// The gateway, client/ and loadtest/ import this module; nothing re-declares a frame.
// zod/mini, not classic zod: the browser client bundles this module, and mini's functions tree-shake (the client
// keeps only the server-frame schemas: ~27 KB of zod instead of ~450 KB). Same core, same parse semantics.
export * from "./channels.js";
export * from "./client-frames.js";
export * from "./close-codes.js";
export * from "./error-codes.js";
export * from "./server-frames.js";
export * from "./sse.js";
