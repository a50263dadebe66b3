// The connect hook: a connection with no JWT (a session cookie, say) is accepted only when the backend names its
// user and rights. Called from the upgrade handler (server.ts) before the socket exists; the server-side channels
// of the answer are subscribed when the socket opens. Connections it accepted are remembered by their Permissions
// object (a WeakSet/WeakMap: no per-socket field, gone with the connection), which is how refresh finds them.
import { ErrorCode } from "../../../protocol/index.js";
import type { Permissions } from "../auth.js";
import { compilePatterns } from "../channel-patterns.js";
import { type ConnectResult, checkConnect, connectResult, type Verdict } from "./answers.js";
import { ask, type HookClient } from "./hook-client.js";

/** Request headers passed on to the backend: what identifies a browser session, nothing that carries a credential of ours. */
export const FORWARDED_HEADERS = ["cookie", "origin", "user-agent"] as const;

export interface ConnectRequest {
  client: string;
  transport: "websocket" | "sse";
  headers: Partial<Record<(typeof FORWARDED_HEADERS)[number], string>>;
  remoteAddr: string;
}

/** The body of a connect call: only the allow-listed headers, and only those the request had. */
export function connectRequest(
  client: string,
  header: (name: string) => string,
  remoteAddr: string,
  transport: ConnectRequest["transport"] = "websocket",
): ConnectRequest {
  const headers: ConnectRequest["headers"] = {};
  for (const name of FORWARDED_HEADERS) {
    const value = header(name);
    if (value) headers[name] = value;
  }
  return { client, transport, headers, remoteAddr };
}

/** What the upgrade does: open the socket with these rights, or answer the HTTP status. */
export type ConnectOutcome =
  | { ok: true; permissions: Permissions; channels: readonly string[] }
  | { ok: false; status: 401 | 503; code: ErrorCode; reason: string };

/** Pure: a verdict of the connect hook as the upgrade's outcome. Rights default to none (secure by default). */
export function connectOutcome(verdict: Verdict<ConnectResult>, nowMs: number): ConnectOutcome {
  const v = checkConnect(verdict, nowMs);
  switch (v.kind) {
    case "allow":
      return {
        ok: true,
        permissions: {
          sub: v.value.user,
          expiresAtMs: v.value.expireAt === undefined ? undefined : v.value.expireAt * 1000,
          subscribe: compilePatterns(v.value.subscribe ?? []),
          publish: compilePatterns(v.value.publish ?? []),
        },
        channels: v.value.channels ?? [],
      };
    case "refuse":
      return { ok: false, status: 401, code: ErrorCode.Unauthorized, reason: v.message };
    case "disconnect":
      return { ok: false, status: 401, code: ErrorCode.Unauthorized, reason: v.reason };
    case "unavailable":
      return { ok: false, status: 503, code: ErrorCode.Unavailable, reason: v.message };
  }
}

export interface ConnectHook {
  /** Ask the backend; never rejects. */
  authenticate(request: ConnectRequest): Promise<ConnectOutcome>;
  /** Whether these rights came from the connect hook (the session is the backend's, refreshed by it). */
  accepted(permissions: Permissions): boolean;
  /** The server-side channels of a just-accepted connection, once (the open handler subscribes them). */
  takeChannels(permissions: Permissions): readonly string[];
}

export function createConnectHook(client: HookClient, now: () => number): ConnectHook {
  const sessions = new WeakSet<Permissions>();
  const pending = new WeakMap<Permissions, readonly string[]>();
  return {
    async authenticate(request) {
      const outcome = connectOutcome(await ask(client, request, connectResult), now());
      if (outcome.ok) {
        sessions.add(outcome.permissions);
        if (outcome.channels.length > 0) pending.set(outcome.permissions, outcome.channels);
      }
      return outcome;
    },
    accepted: (permissions) => sessions.has(permissions),
    takeChannels(permissions) {
      const channels = pending.get(permissions) ?? [];
      pending.delete(permissions);
      return channels;
    },
  };
}
