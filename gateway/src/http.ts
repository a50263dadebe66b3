// Small helpers for uWS HTTP responses: JSON replies and bounded body reads.
import type { HttpResponse } from "uWebSockets.js";

export const STATUS: Record<number, string> = {
  200: "200 OK",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  413: "413 Payload Too Large",
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

export function sendJson(r: Reply | HttpResponse, status: number, body: unknown): void {
  const res = "res" in r && "aborted" in r ? r.res : (r as HttpResponse);
  if ("aborted" in r && r.aborted === true) return;
  res.cork(() => {
    res
      .writeStatus(STATUS[status] ?? `${status}`)
      .writeHeader("content-type", "application/json")
      .writeHeader("cache-control", "no-store")
      .end(JSON.stringify(body));
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
