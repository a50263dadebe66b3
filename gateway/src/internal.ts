// The internal listener (RTGW_METRICS_PORT): /metrics for scrapers and /admin/* for the operator. Kept off the
// client port so that a Service or Ingress exposing clients can never reach drain/shed, whatever its type.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { z } from "zod";
import { bearerRefusal } from "./http.js";

export interface InternalDeps {
  /** RTGW_ADMIN_KEY: without it /admin/* answers 403. */
  adminKey: string | undefined;
  metricsText: () => Promise<{ contentType: string; text: string }>;
  drain: () => { draining: true; connections: number; seconds: number };
  shed: (count: number, seconds: number | undefined) => { shed: number; connections: number };
}

const shedBody = z.strictObject({
  count: z.number().int().positive(),
  seconds: z.number().min(0).max(3600).optional(),
});
const MAX_BODY_BYTES = 4096;

const json = (res: ServerResponse, status: number, body: unknown) =>
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));

/** The body as text, at most MAX_BODY_BYTES; undefined when larger. */
function readSmallBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(undefined));
  });
}

async function admin(d: InternalDeps, path: string, req: IncomingMessage, res: ServerResponse) {
  const refusal = bearerRefusal(req.headers.authorization ?? "", d.adminKey, "RTGW_ADMIN_KEY");
  if (refusal) return json(res, refusal.status, refusal.body);
  if (path === "/admin/drain") return json(res, 200, d.drain());
  const raw = await readSmallBody(req);
  if (raw === undefined)
    return json(res, 413, { error: "too_large", message: `body over ${MAX_BODY_BYTES} bytes` });
  let parsed: z.ZodSafeParseResult<z.infer<typeof shedBody>>;
  try {
    parsed = shedBody.safeParse(JSON.parse(raw));
  } catch {
    return json(res, 400, { error: "bad_request", message: "body is not valid JSON" });
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return json(res, 400, { error: "bad_request", message: `${where}${issue?.message ?? "invalid body"}` });
  }
  return json(res, 200, d.shed(parsed.data.count, parsed.data.seconds));
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
    } else json(res, 404, { error: "not_found" });
  });
}
