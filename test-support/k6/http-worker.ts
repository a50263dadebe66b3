// The worker behind SyncHttp: makes one HTTP request at a time with node:http and hands the result back through
// the port, then wakes the waiting runtime thread (see http-client.ts).
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type MessagePort, workerData } from "node:worker_threads";
import type { HttpRequest, HttpResult } from "./http-client.js";

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

function perform(req: HttpRequest): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const send = req.url.startsWith("https:") ? httpsRequest : httpRequest;
    const outgoing = send(
      req.url,
      { method: req.method, headers: req.headers, timeout: req.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
          }
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            headers,
            durationMs: performance.now() - started,
            error: "",
          });
        });
        res.on("error", (err) => resolve(failed(err, started)));
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error("request timeout")));
    outgoing.on("error", (err) => resolve(failed(err, started)));
    outgoing.end(req.body ?? undefined);
  });
}

function failed(err: Error, started: number): HttpResult {
  return { status: 0, body: "", headers: {}, durationMs: performance.now() - started, error: err.message };
}

port.on("message", (req: HttpRequest) => {
  void perform(req).then((result) => {
    port.postMessage(result);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
});
