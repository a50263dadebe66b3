// The refresh hook: a connection the connect hook accepted with an `expireAt` is extended by the backend shortly
// before it ends, or closed with 4003 (the client reconnects, and the connect hook decides again). A sweep a
// second (no per-socket timer) asks for the sessions within REFRESH_AHEAD_MS of their end, one call per
// connection at a time; a backend that does not answer is asked again next second, and at the end the
// expiry sweep (server.ts) closes the connection with 4003 as for an expired token.
import { CloseCode } from "../../../protocol/index.js";
import type { Permissions } from "../auth.js";
import { connectionId, type Socket } from "../connection.js";
import { refreshOutcome, refreshResult } from "./answers.js";
import { ask, type HookClient } from "./hook-client.js";

/** How long before a session's end the gateway asks to extend it. */
export const REFRESH_AHEAD_MS = 5_000;

export interface RefreshRequest {
  client: string;
  user: string;
}

export interface RefreshSweepDeps {
  client: HookClient;
  sockets: () => Iterable<Socket>;
  /** Whether a connection's rights came from the connect hook. */
  accepted: (permissions: Permissions) => boolean;
  now: () => number;
}

/** Pure: whether a session is due for a refresh call. */
export function refreshDue(expiresAtMs: number | undefined, nowMs: number): boolean {
  return expiresAtMs !== undefined && expiresAtMs - nowMs <= REFRESH_AHEAD_MS && expiresAtMs > nowMs;
}

export function startRefreshSweep(d: RefreshSweepDeps): { stop(): void } {
  const asking = new WeakSet<Socket>();
  const refresh = async (ws: Socket, permissions: Permissions) => {
    asking.add(ws);
    const conn = ws.getUserData();
    const request: RefreshRequest = { client: connectionId(conn), user: permissions.sub ?? "" };
    const verdict = await ask(d.client, request, refreshResult);
    asking.delete(ws);
    // Closed, or its rights replaced meanwhile: the answer is about a session that is gone.
    if (conn.closed || conn.permissions !== permissions) return;
    const outcome = refreshOutcome(verdict, d.now(), permissions.expiresAtMs ?? 0);
    if ("extendTo" in outcome) permissions.expiresAtMs = outcome.extendTo;
    else if ("end" in outcome) ws.end(CloseCode.TokenExpired, outcome.end);
  };
  const timer = setInterval(() => {
    const now = d.now();
    for (const ws of d.sockets()) {
      const conn = ws.getUserData();
      const permissions = conn.permissions;
      if (conn.closed || asking.has(ws) || !d.accepted(permissions)) continue;
      if (refreshDue(permissions.expiresAtMs, now)) void refresh(ws, permissions);
    }
  }, 1000).unref();
  return { stop: () => clearInterval(timer) };
}
