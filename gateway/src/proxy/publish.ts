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

export function createPublishHook(client: HookClient): PublishHook {
  return async (request) => {
    const rewrote = (r: PublishResult) => r.data !== undefined;
    const v = await ask(client, request, publishResult, rewrote);
    return v.kind === "allow" ? { kind: "allow", value: publishedData(v.value, request.data) } : v;
  };
}
