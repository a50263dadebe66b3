// What a channel's namespace (RTGW_CONFIG) lets a client or the server API do: pure decisions on subscribe,
// publish and presence, from the namespace lookup and the connection's token rights. session.ts and api/methods.ts
// act on the verdicts; gateway/test/unit/namespace-rules.test.ts is their table.
import { ErrorCode, type FrameErrorCode } from "../../../protocol/index.js";
import { type ChannelPatterns, matches } from "../channel-patterns.js";
import type { Lookup, ResolvedNamespace } from "./namespaces.js";

export type Verdict =
  | { ok: true; namespace: ResolvedNamespace }
  | { ok: false; code: FrameErrorCode; message: string };

/** What a connection brings: its token's channel rights, and whether it still owes its token (`?auth=frame`). */
export interface Rights {
  permissions: { subscribe: ChannelPatterns; publish: ChannelPatterns };
  awaitingToken?: boolean | undefined;
}

/** What a subscribe frame asks for besides the channel. */
export interface SubscribeAsk {
  presence?: boolean | undefined;
}

const refuse = (code: FrameErrorCode, message: string): Verdict => ({ ok: false, code, message });
const label = (ns: ResolvedNamespace) => (ns.name === "" ? "the default namespace" : `namespace ${ns.name}`);

/**
 * Whether the connection may read the channel (subscribe, ask presence): the token's right, or a namespace open
 * to `anyone`, but never before the token came (that connection may do nothing else either).
 */
export function mayRead(namespace: ResolvedNamespace, channel: string, rights: Rights): boolean {
  if (rights.awaitingToken) return false;
  return namespace.subscribe === "anyone" || matches(rights.permissions.subscribe, channel);
}

/** Where the subscribe hook decides (proxySubscribe), the token's rights are not asked; the backend is, next. */
const readable = (ns: ResolvedNamespace, channel: string, rights: Rights, subscribed: boolean) =>
  ns.proxySubscribe ? !rights.awaitingToken && subscribed : mayRead(ns, channel, rights);

export function subscribeVerdict(
  lookup: Lookup,
  channel: string,
  rights: Rights,
  ask: SubscribeAsk,
): Verdict {
  if (!lookup.ok) return refuse(ErrorCode.BadRequest, lookup.message);
  const ns = lookup.namespace;
  if (!readable(ns, channel, rights, true))
    return refuse(ErrorCode.Forbidden, `not allowed to subscribe to ${channel}`);
  if (ask.presence === true && !ns.presence)
    return refuse(
      ErrorCode.BadRequest,
      `presence is off in ${label(ns)}: subscribe to ${channel} without presence`,
    );
  return lookup;
}

/**
 * What a subscribe asking to resume after `since` gets from its namespace: with recovery off, no replay and an
 * ack saying recovered:false (`lost`), so the gap is announced and the subscription goes on rather than being
 * refused (the SDK sends since on every resubscribe). WebSocket subscribes and SSE streams both ask here.
 */
export function resumeOf(
  ns: ResolvedNamespace,
  since: number | undefined,
): { since: number | undefined; lost: boolean } {
  return ns.recovery || since === undefined ? { since, lost: false } : { since: undefined, lost: true };
}

export function publishVerdict(lookup: Lookup, channel: string, rights: Rights): Verdict {
  if (!lookup.ok) return refuse(ErrorCode.BadRequest, lookup.message);
  const ns = lookup.namespace;
  if (ns.publish === "server")
    return refuse(ErrorCode.Forbidden, `only the server API may publish to ${channel} (${label(ns)})`);
  // proxyPublish: the publish hook decides instead of the token (session.ts asks it next).
  if (rights.awaitingToken || (!ns.proxyPublish && !matches(rights.permissions.publish, channel)))
    return refuse(ErrorCode.Forbidden, `not allowed to publish to ${channel}`);
  return lookup;
}

/**
 * A client's presence query: as a subscribe with presence on would be judged. Where the subscribe hook decides,
 * being subscribed (the backend allowed it) stands in for the token's rights.
 */
export function presenceVerdict(
  lookup: Lookup,
  channel: string,
  rights: Rights,
  subscribed: boolean,
): Verdict {
  if (!lookup.ok) return refuse(ErrorCode.BadRequest, lookup.message);
  const ns = lookup.namespace;
  if (!readable(ns, channel, rights, subscribed))
    return refuse(ErrorCode.Forbidden, `not allowed to see presence on ${channel}`);
  if (!ns.presence)
    return refuse(ErrorCode.BadRequest, `presence is off in ${label(ns)} (channel ${channel})`);
  return lookup;
}

/** What the server API does to a channel; `publish: server` is the API's own right, so publish asks only the lookup. */
export type ServerCall = "publish" | "history" | "presence";

export function serverVerdict(lookup: Lookup, channel: string, call: ServerCall): Verdict {
  if (!lookup.ok) return refuse(ErrorCode.BadRequest, lookup.message);
  if (call === "presence" && !lookup.namespace.presence)
    return refuse(ErrorCode.BadRequest, `presence is off in ${label(lookup.namespace)} (channel ${channel})`);
  return lookup;
}
