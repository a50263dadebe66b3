// The internal listener (RTGW_METRICS_PORT): /metrics for scrapers and /admin/* for the operator. Kept off the
// client port so that a Service or Ingress exposing clients can never reach drain/shed, whatever its type.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { z } from "zod";
import { ErrorCode } from "../../protocol/index.js";
import { bearerRefusal } from "./http.js";
import { json, parseJsonBody, readBodyText } from "./node-http.js";

export interface InternalDeps {
  /** RTGW_ADMIN_KEY: without it /admin/* answers 403. */
  adminKey: string | undefined;
  metricsText: () => Promise<{ contentType: string; text: string }>;
  drain: () => { draining: true; connections: number; seconds: number };
  shed: (count: number, seconds: number | undefined) => { shed: number; connections: number };
  /** More routes on this port (the admin view): true when it answered the request. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

const shedBody = z.strictObject({
  count: z.number().int().positive(),
  seconds: z.number().min(0).max(3600).optional(),
});
const MAX_BODY_BYTES = 4096;

async function admin(d: InternalDeps, path: string, req: IncomingMessage, res: ServerResponse) {
  const refusal = bearerRefusal(req.headers.authorization ?? "", d.adminKey, "RTGW_ADMIN_KEY");
  if (refusal) return json(res, refusal.status, refusal.body);
  if (path === "/admin/drain") return json(res, 200, d.drain());
  const raw = await readBodyText(req, MAX_BODY_BYTES);
  if (raw === undefined) return;
  if (raw === "too_large")
    return json(res, 413, { error: ErrorCode.TooLarge, message: `body over ${MAX_BODY_BYTES} bytes` });
  const parsed = parseJsonBody(shedBody, raw);
  if (!parsed.ok) return json(res, 400, { error: ErrorCode.BadRequest, message: parsed.message });
  return json(res, 200, d.shed(parsed.value.count, parsed.value.seconds));
}

export function createInternalServer(d: InternalDeps): Server {
  return createServer((req, res) => {
    const path = req.url?.split("?")[0] ?? "";
    if (req.method === "GET" && path === "/metrics") {
      d.metricsText().then(
        ({ contentType, text }) => res.writeHead(200, { "content-type": contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.method === "POST" && (path === "/admin/drain" || path === "/admin/shed")) {
      void admin(d, path, req, res);
    } else if (!d.routes?.(req, res)) json(res, 404, { error: ErrorCode.NotFound });
  });
}
