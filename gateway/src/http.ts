// Small helpers for uWS HTTP responses: JSON replies and bounded body reads.

import type { HttpResponse } from "uWebSockets.js";
import { timingSafeEqual } from "node:crypto";
import type { z } from "zod";
import { ErrorCode } from "../../protocol/index.js";
import { tokenFrom } from "./auth.js";

export const STATUS: Record<number, string> = {
  200: "200 OK",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  413: "413 Payload Too Large",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/** Tracks abort so async handlers never write to a dead response. */
export interface Reply {
  res: HttpResponse;
  aborted: boolean;
}

export function reply(res: HttpResponse): Reply {
  const r: Reply = { res, aborted: false };
  res.onAborted(() => {
    r.aborted = true;
  });
  return r;
}

/** `closeConnection`: end the keep-alive connection after this reply (a draining gateway, so clients reconnect elsewhere). */
export function sendJson(
  r: Reply | HttpResponse,
  status: number,
  body: unknown,
  closeConnection = false,
): void {
  const res = "res" in r && "aborted" in r ? r.res : (r as HttpResponse);
  if ("aborted" in r && r.aborted === true) return;
  res.cork(() => {
    res
      .writeStatus(STATUS[status] ?? `${status}`)
      .writeHeader("content-type", "application/json")
      .writeHeader("cache-control", "no-store")
      .end(JSON.stringify(body), closeConnection);
  });
}

export function sendText(res: HttpResponse, status: number, contentType: string, body: string): void {
  res.cork(() => {
    res
      .writeStatus(STATUS[status] ?? `${status}`)
      .writeHeader("content-type", contentType)
      .end(body);
  });
}

/** Read the whole body, at most `limit` bytes; resolves undefined when too large or aborted. */
export function readBody(r: Reply, limit: number): Promise<Buffer | "too_large" | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    r.res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > limit) {
        done = true;
        resolve("too_large");
        return;
      }
      // uWS neuters the chunk after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk.slice(0))));
      if (isLast) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    r.res.onAborted(() => {
      r.aborted = true;
      if (!done) {
        done = true;
        resolve(undefined);
      }
    });
  });
}

/** Whether `Authorization: Bearer <key>` carries exactly `key` (constant time). Pure; shared by both ports. */
export function bearerMatches(authorization: string, key: string): boolean {
  const given = Buffer.from(tokenFrom(authorization, "") ?? "");
  const want = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** What a bearer-key check answers: undefined when allowed, else the status and body to send. */
export function bearerRefusal(
  authorization: string,
  key: string | undefined,
  variable: string,
): { status: 401 | 403; body: { error: string; message: string } } | undefined {
  if (!key)
    return { status: 403, body: { error: ErrorCode.Forbidden, message: `${variable} is not configured` } };
  if (!bearerMatches(authorization, key))
    return { status: 401, body: { error: ErrorCode.Unauthorized, message: "wrong or missing bearer key" } };
  return undefined;
}

/** Bearer API key: 403 when none is configured, 401 when wrong (answered here). Returns true when allowed. */
export function checkApiKey(res: HttpResponse, authorization: string, apiKey: string | undefined): boolean {
  const refusal = bearerRefusal(authorization, apiKey, "RTGW_API_KEY");
  if (refusal) sendJson(res, refusal.status, refusal.body);
  return refusal === undefined;
}

/** Read and parse a JSON body with a zod schema; answers 400/413 itself and then has no `body`. */
export async function readJsonBody<T>(
  res: HttpResponse,
  schema: z.ZodType<T>,
  maxBytes: number,
): Promise<{ r: Reply; body?: T }> {
  const r = reply(res);
  const raw = await readBody(r, maxBytes + 1024);
  if (raw === undefined) return { r };
  if (raw === "too_large") {
    sendJson(r, 413, { error: ErrorCode.TooLarge, message: `body larger than ${maxBytes} bytes` });
    return { r };
  }
  let json: unknown;
  try {
    // An empty body is an empty object: `curl -X POST .../api/info` needs none.
    const text = raw.toString("utf8");
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    sendJson(r, 400, { error: ErrorCode.BadRequest, message: "body is not valid JSON" });
    return { r };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    sendJson(r, 400, { error: ErrorCode.BadRequest, message: `${where}${issue?.message ?? "invalid body"}` });
    return { r };
  }
  return { r, body: parsed.data };
}
