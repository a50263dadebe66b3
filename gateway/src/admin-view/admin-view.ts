// The admin view assembled for one gateway: this node's AdminOps, the live feed sampling it, and the routes the
// internal port's server asks first. server.ts builds it in one call and closes it on stop.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { MethodContext } from "../api/methods.js";
import { startLiveFeed } from "./live.js";
import { type AdminOps, fleetAdminOps } from "./ops.js";
import { adminViewRoutes } from "./routes.js";

export interface AdminView {
  /** Answers the request and returns true when its path is the admin view's. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

export interface AdminViewOptions {
  key: string | undefined;
  /** The server API's context: the view answers through the API's methods (fleetAdminOps). */
  api: MethodContext;
  maxMessageBytes: number;
  logger: Logger;
  /** Instead of the API's methods (tests). */
  ops?: AdminOps;
  /** How often the charts get a point (ms, default 1000). */
  sampleMs?: number;
}

export function createAdminView(o: AdminViewOptions): AdminView {
  const ops = o.ops ?? fleetAdminOps(o.api);
  // Five minutes of points at the default interval; no sampling while the view is off (no key) or unwatched.
  const live = o.key ? startLiveFeed({ ops, intervalMs: o.sampleMs ?? 1000, capacity: 300 }) : undefined;
  const handle = adminViewRoutes({
    key: o.key,
    ops,
    live,
    maxBodyBytes: o.maxMessageBytes + 1024,
    onError: (err) => o.logger.error({ err }, "admin view request failed"),
  });
  return { handle, close: () => live?.stop() };
}
