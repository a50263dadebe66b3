// The one HTTP client every backend hook uses: a POST of JSON to the hook's URL through a bounded keep-alive pool
// (node's own http/https Agent: at most maxConnections sockets, further calls wait in its queue), one deadline per
// call (AbortSignal: queueing for a socket counts), the configured headers and a request id, and its metrics.
// No retries, for any hook: a publish must never be sent twice, and a connect or subscribe retried behind a slow
// backend would only hold the client longer than the timeout it was promised; the client retries when it wants.

import { randomUUID } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { z } from "zod";
import { type HOOKS, proxyCalls, proxyDuration, proxyErrors } from "../metrics.js";
import type { HookOptions } from "../namespaces/schema.js";
import { readAnswer, type Verdict, verdictLabel } from "./answers.js";

export type HookName = (typeof HOOKS)[number];

/** Why a call got no answer to read. */
const CALL_FAILURES = ["timeout", "network", "status", "invalid"] as const;
export type CallFailure = (typeof CALL_FAILURES)[number];
const RESULTS = ["allow", "rewrite", "refuse", "disconnect", "unavailable"] as const;
export type CallResult = { ok: true; body: unknown } | { ok: false; reason: CallFailure; message: string };

export interface HookClient {
  readonly hook: HookName;
  /** POST `body` as JSON; resolves with the parsed JSON answer, or why there is none. Never rejects. */
  call(body: unknown): Promise<CallResult>;
  /** Close the pooled sockets (gateway shutdown). */
  close(): void;
}

/** An answer larger than this is refused unread: a hook answers with a verdict, not a payload dump. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export function createHookClient(hook: HookName, options: HookOptions): HookClient {
  const url = new URL(options.url);
  const tls = url.protocol === "https:";
  const pool = {
    keepAlive: true,
    maxSockets: options.maxConnections,
    maxTotalSockets: options.maxConnections,
    maxFreeSockets: options.maxConnections,
  };
  const agent = tls ? new HttpsAgent(pool) : new HttpAgent(pool);
  // A configured hook's series exist at 0 from the start, so rate() and alerts see them before the first call.
  for (const result of RESULTS) proxyCalls.inc({ hook, result }, 0);
  for (const reason of CALL_FAILURES) proxyErrors.inc({ hook, reason }, 0);
  const send = tls ? httpsRequest : httpRequest;

  const call = (body: unknown): Promise<CallResult> =>
    new Promise((resolve) => {
      const payload = JSON.stringify(body);
      const signal = AbortSignal.timeout(options.timeoutMs);
      let settled = false;
      const done = (result: CallResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const failed = (err: Error) =>
        signal.aborted
          ? done({ ok: false, reason: "timeout", message: `no answer within ${options.timeoutMs} ms` })
          : done({ ok: false, reason: "network", message: err.message });
      const req = send(
        url,
        {
          method: "POST",
          agent,
          signal,
          headers: {
            ...options.headers,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            "x-request-id": randomUUID(),
          },
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) {
              done({ ok: false, reason: "invalid", message: `answer over ${MAX_ANSWER_BYTES} bytes` });
              res.destroy();
            } else chunks.push(chunk);
          });
          res.on("error", failed);
          res.on("end", () => {
            if (status < 200 || status > 299)
              return done({ ok: false, reason: "status", message: `the backend answered HTTP ${status}` });
            try {
              done({ ok: true, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
            } catch {
              done({ ok: false, reason: "invalid", message: "the backend's answer is not JSON" });
            }
          });
        },
      );
      req.on("error", failed);
      req.end(payload);
    });

  return {
    hook,
    async call(body) {
      const stop = proxyDuration.startTimer({ hook });
      const result = await call(body);
      stop();
      if (!result.ok) proxyErrors.inc({ hook, reason: result.reason });
      return result;
    },
    close: () => agent.destroy(),
  };
}

/**
 * One hook call read as a verdict: no answer is `unavailable`; the answer parsed with the hook's result schema.
 * Counted in rtgw_proxy_calls_total by its verdict (`rewrite` when `rewrote` says the backend changed the data).
 */
export async function ask<T>(
  client: HookClient,
  body: unknown,
  result: z.ZodType<T>,
  rewrote: (value: T) => boolean = () => false,
): Promise<Verdict<T>> {
  const answer = await client.call(body);
  const verdict: Verdict<T> = answer.ok
    ? readAnswer(client.hook, answer.body, result)
    : { kind: "unavailable", message: `the ${client.hook} hook is unavailable: ${answer.message}` };
  if (verdict.kind === "unavailable" && answer.ok) proxyErrors.inc({ hook: client.hook, reason: "invalid" });
  proxyCalls.inc({
    hook: client.hook,
    result: verdictLabel(verdict, verdict.kind === "allow" && rewrote(verdict.value)),
  });
  return verdict;
}
