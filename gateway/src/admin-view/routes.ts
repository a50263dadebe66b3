// The admin view's routes on the internal port's node:http server: GET /admin/ serves the page (no data in
// it), and POST /admin/api/<name> answers its questions through AdminOps. Every API call needs the admin key as
// a bearer header: a browser only sends one from the page's own script, and with no CORS headers here another
// site's page can neither send it nor read an answer, so nothing is CSRF-able; the key never rides in a URL.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { channelName } from "../../../protocol/index.js";
import { BrokerUnavailableError } from "../broker/broker.js";
import { bearerRefusal } from "../http.js";
import { json, parseJsonBody, readBodyText } from "../node-http.js";
import type { LiveFeed } from "./live.js";
import type { AdminOps } from "./ops.js";
import { ADMIN_PAGE_CSP, ADMIN_PAGE_HTML } from "./page.js";

export interface AdminViewDeps {
  /** Without a key every API call answers 403: the view is off. */
  key: string | undefined;
  ops: AdminOps;
  /** Undefined while the view is off (no key): nothing is sampled. */
  live: LiveFeed | undefined;
  /** Largest request body (a publish carries a message). */
  maxBodyBytes: number;
  onError: (err: unknown) => void;
}

/** A request handler for the internal server: true when the path was the admin view's (answered). */
export type AdminViewHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** One API call: its body's schema and what it does with a parsed body. */
interface Route {
  handle(
    d: AdminViewDeps,
    raw: string,
  ): { ok: true; result: Promise<unknown> } | { ok: false; message: string };
}
const route = <T>(schema: z.ZodType<T>, run: (d: AdminViewDeps, body: T) => Promise<unknown>): Route => ({
  handle(d, raw) {
    const body = parseJsonBody(schema, raw);
    return body.ok ? { ok: true, result: run(d, body.value) } : body;
  },
});

const channelBody = z.strictObject({ channel: channelName });
const routes: Record<string, Route> = {
  info: route(z.strictObject({}), (d) => d.ops.info()),
  channels: route(z.strictObject({ pattern: z.string().max(200).optional() }), (d, b) =>
    d.ops.channels(b.pattern),
  ),
  history: route(
    z.strictObject({ channel: channelName, limit: z.number().int().min(1).max(1000).default(20) }),
    (d, b) => d.ops.history(b.channel, b.limit),
  ),
  presence: route(channelBody, (d, b) => d.ops.presence(b.channel)),
  publish: route(z.strictObject({ channel: channelName, data: z.json() }), (d, b) =>
    d.ops.publish(b.channel, b.data),
  ),
  disconnect: route(z.strictObject({ user: z.string().min(1).max(256) }), (d, b) => d.ops.disconnect(b.user)),
  // The live feed: samples newer than the page's last one.
  live: route(z.strictObject({ since: z.number().min(0).default(0) }), async (d, b) => ({
    samples: d.live?.since(b.since) ?? [],
  })),
};

async function answer(d: AdminViewDeps, name: string, req: IncomingMessage, res: ServerResponse) {
  const refusal = bearerRefusal(req.headers.authorization ?? "", d.key, "RTGW_ADMIN_KEY");
  if (refusal) return json(res, refusal.status, refusal.body);
  const raw = await readBodyText(req, d.maxBodyBytes);
  if (raw === undefined) return;
  if (raw === "too_large")
    return json(res, 413, { error: "too_large", message: `body over ${d.maxBodyBytes} bytes` });
  const call = routes[name]?.handle(d, raw);
  if (!call) return json(res, 404, { error: "not_found" });
  if (!call.ok) return json(res, 400, { error: "bad_request", message: call.message });
  try {
    json(res, 200, await call.result);
  } catch (err) {
    if (err instanceof BrokerUnavailableError)
      return json(res, 503, { error: "unavailable", message: "the broker is unavailable" });
    d.onError(err);
    json(res, 500, { error: "internal", message: "the request failed; see the gateway's log" });
  }
}

export function adminViewRoutes(d: AdminViewDeps): AdminViewHandler {
  return (req, res) => {
    const path = req.url?.split("?")[0] ?? "";
    if (path === "/admin" || path === "/admin/") {
      if (req.method !== "GET") {
        json(res, 405, { error: "method_not_allowed" });
        return true;
      }
      res
        .writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "content-security-policy": ADMIN_PAGE_CSP,
          "x-frame-options": "DENY",
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        })
        .end(ADMIN_PAGE_HTML);
      return true;
    }
    const name = path.startsWith("/admin/api/") ? path.slice("/admin/api/".length) : undefined;
    if (name === undefined || !Object.hasOwn(routes, name)) return false;
    if (req.method !== "POST") json(res, 405, { error: "method_not_allowed" });
    else void answer(d, name, req, res);
    return true;
  };
}
