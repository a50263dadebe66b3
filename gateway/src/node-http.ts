// Helpers for the internal port's node:http handlers (/admin/*, the admin view): JSON replies, bounded body reads
// and a zod-checked JSON body. The client port's uWS equivalents are in http.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";

export function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}

/** The body as text, at most `limit` bytes; "too_large" past it, undefined when the request failed. */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string | "too_large" | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve("too_large");
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(undefined));
  });
}

/** JSON text checked with `schema` (an empty body is `{}`); the first issue as one sentence when it fails. */
export function parseJsonBody<T>(
  schema: z.ZodType<T>,
  raw: string,
): { ok: true; value: T } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = raw.trim() === "" ? {} : JSON.parse(raw);
  } catch {
    return { ok: false, message: "body is not valid JSON" };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return { ok: false, message: `${where}${issue?.message ?? "invalid body"}` };
}
