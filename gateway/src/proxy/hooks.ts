// The backend hooks as the gateway sees them: built once from RTGW_CONFIG's `proxy` section, and called by the
// upgrade handler (connect), the open handler (server-side channels), session.ts (subscribe, publish) and a
// sweep (refresh). A hook not configured is simply absent; a namespace without proxySubscribe/proxyPublish
// never calls one.
import { ErrorCode, type FrameErrorCode } from "../../../protocol/index.js";
import type { Permissions } from "../auth.js";
import type { GatewayConfig } from "../config.js";
import { type Connection, connectionId, type Socket } from "../connection.js";
import type { Verdict } from "./answers.js";
import { type ConnectHook, createConnectHook } from "./connect.js";
import { createHookClient, type HookClient, type HookName } from "./hook-client.js";
import { createPublishHook, type PublishHook } from "./publish.js";
import { startRefreshSweep } from "./refresh.js";
import { createSubscribeHook, type SubscribeHook } from "./subscribe.js";

/** A WebSocket close reason is at most 123 bytes. */
const closeReason = (text: string) => Buffer.from(text).subarray(0, 120).toString("utf8");

export interface Hooks {
  connect: ConnectHook | undefined;
  /** Whether the channel's namespace asks the subscribe hook (then the hook, not the rights, decides). */
  subscribes(channel: string): boolean;
  subscribe(conn: Connection, channel: string): Promise<Verdict<unknown>>;
  /** Whether the channel's namespace passes publishes through the publish hook. */
  publishes(channel: string): boolean;
  /** `allow` carries the data to publish (JSON text). */
  publish(conn: Connection, channel: string, data: unknown): Promise<Verdict<string>>;
  /** Whether this connection's session belongs to the connect hook (a JWT `refresh` frame may not replace it). */
  accepted(permissions: Permissions): boolean;
  /** Start refreshing connect-hook sessions (when a refresh hook is configured). */
  startRefresh(sockets: () => Iterable<Socket>): void;
  close(): void;
}

/**
 * Tell the client what a refused or failed call means: `forbidden` (the backend said no), `unavailable` (no
 * answer; may pass later), or a close with the backend's code. True when the verdict allows.
 */
export function answered<T>(
  ws: Socket,
  v: Verdict<T>,
  fail: (code: FrameErrorCode, message: string) => void,
): v is Extract<Verdict<T>, { kind: "allow" }> {
  if (v.kind === "allow") return true;
  if (v.kind === "refuse") fail(ErrorCode.Forbidden, v.message);
  else if (v.kind === "unavailable") fail(ErrorCode.Unavailable, v.message);
  else if (!ws.getUserData().closed) ws.end(v.code, closeReason(v.reason));
  return false;
}

export function createHooks(
  config: Pick<GatewayConfig, "proxy" | "namespaces" | "maxMessageBytes">,
  now = Date.now,
): Hooks {
  const clients: HookClient[] = [];
  const client = (hook: HookName) => {
    const options = config.proxy[hook];
    if (!options) return undefined;
    const c = createHookClient(hook, options);
    clients.push(c);
    return c;
  };
  const connectClient = client("connect");
  const connect = connectClient ? createConnectHook(connectClient, now) : undefined;
  const subscribeClient = client("subscribe");
  const subscribe: SubscribeHook | undefined = subscribeClient && createSubscribeHook(subscribeClient);
  const publishClient = client("publish");
  const publish: PublishHook | undefined =
    publishClient && createPublishHook(publishClient, config.maxMessageBytes);
  const refreshClient = client("refresh");
  let sweep: { stop(): void } | undefined;

  const option = (channel: string, key: "proxySubscribe" | "proxyPublish") => {
    const lookup = config.namespaces.of(channel);
    return lookup.ok && lookup.namespace[key];
  };
  const user = (conn: Connection) => conn.permissions.sub ?? "";
  const missing = (hook: string): Promise<Verdict<never>> =>
    Promise.resolve({ kind: "unavailable", message: `no ${hook} hook is configured` });

  return {
    connect,
    // The config file refuses proxySubscribe/proxyPublish without the hook; `missing` is only a backstop.
    subscribes: (channel) => option(channel, "proxySubscribe"),
    subscribe: (conn, channel) =>
      subscribe ? subscribe({ client: connectionId(conn), user: user(conn), channel }) : missing("subscribe"),
    publishes: (channel) => option(channel, "proxyPublish"),
    publish: (conn, channel, data) =>
      publish ? publish({ client: connectionId(conn), user: user(conn), channel, data }) : missing("publish"),
    accepted: (permissions) => connect?.accepted(permissions) ?? false,
    startRefresh(sockets) {
      if (!refreshClient || !connect || sweep) return;
      sweep = startRefreshSweep({ client: refreshClient, sockets, accepted: connect.accepted, now });
    },
    close() {
      sweep?.stop();
      for (const c of clients) c.close();
    },
  };
}
