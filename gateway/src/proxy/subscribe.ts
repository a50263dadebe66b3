// The subscribe hook: for a namespace with `proxySubscribe`, the backend decides each subscribe (in place of the
// connection's subscribe rights). session.ts calls it once its own checks passed, and subscribes on `allow`.
import { subscribeResult, type Verdict } from "./answers.js";
import { ask, type HookClient } from "./hook-client.js";

export interface SubscribeRequest {
  client: string;
  user: string;
  channel: string;
}

export type SubscribeHook = (request: SubscribeRequest) => Promise<Verdict<unknown>>;

export function createSubscribeHook(client: HookClient): SubscribeHook {
  return (request) => ask(client, request, subscribeResult);
}
