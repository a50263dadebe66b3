// The publish hook: for a namespace with `proxyPublish`, every client publish goes through the backend first
// (in place of the connection's publish rights). It may refuse, or replace the data; nothing is published unless
// it allowed. Never retried (hook-client.ts): a publish the backend may have acted on must not happen twice.
import { type PublishResult, publishedData, publishResult, type Verdict } from "./answers.js";
import { ask, type HookClient } from "./hook-client.js";

export interface PublishRequest {
  client: string;
  user: string;
  channel: string;
  data: unknown;
}

/** `allow` carries the data to publish, as JSON text. */
export type PublishHook = (request: PublishRequest) => Promise<Verdict<string>>;

/** `maxBytes` (RTGW_MAX_MESSAGE_BYTES) bounds a rewrite as it bounds a client's frame. */
export function createPublishHook(client: HookClient, maxBytes: number): PublishHook {
  return async (request) => {
    const rewrote = (r: PublishResult) => r.data !== undefined;
    const v = await ask(client, request, publishResult, rewrote);
    if (v.kind !== "allow") return v;
    const data = publishedData(v.value, request.data);
    if (Buffer.byteLength(data) > maxBytes)
      return { kind: "unavailable", message: `the publish hook's data is over ${maxBytes} bytes` };
    return { kind: "allow", value: data };
  };
}
