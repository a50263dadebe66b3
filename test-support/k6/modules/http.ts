// "k6/http": post() only, blocking like k6's, with a k6 Response (status 0 and `error` on a network failure,
// never a throw) and k6's request metrics: http_reqs, http_req_duration, http_req_failed (status outside 200-399).
import type { VirtualUser } from "../vu.js";
import { refuseArgument, strict } from "./strict.js";

const TIMEOUT_MS = 60_000;

export function httpModule(vu: VirtualUser): Record<string, unknown> {
  function post(
    url: string,
    body?: unknown,
    params?: { headers?: Record<string, string> } & Record<string, unknown>,
  ) {
    if (vu.inInit) throw new Error("making http requests in the init context is not supported");
    for (const key of Object.keys(params ?? {}))
      if (key !== "headers") refuseArgument(`http params.${key}`, params?.[key]);
    if (body !== undefined && body !== null && typeof body !== "string")
      refuseArgument("http body other than a string", body);
    const result = vu.run.http.request({
      method: "POST",
      url: String(url),
      body: typeof body === "string" ? body : null,
      headers: { ...(params?.headers ?? {}) },
      timeoutMs: TIMEOUT_MS,
    });
    vu.run.add(vu.run.builtin.http_reqs, 1);
    vu.run.add(vu.run.builtin.http_req_duration, result.durationMs);
    vu.run.add(vu.run.builtin.http_req_failed, result.status >= 200 && result.status < 400 ? 0 : 1);
    return strict("http Response", {
      url: String(url),
      status: result.status,
      body: result.body,
      headers: result.headers,
      error: result.error,
      timings: strict("http Response.timings", { duration: result.durationMs }),
      json: () => JSON.parse(result.body),
    });
  }
  return { default: strict("http", { post }), post };
}
