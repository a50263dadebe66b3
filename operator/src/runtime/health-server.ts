// The operator's own HTTP endpoints, as a table of routes: /healthz (the process is up), /readyz (a standby, or a
// leader whose caches synced) and /metrics (its Prometheus registry). node:http: three routes need no framework.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { OperatorMetrics } from "./metrics.js";

type Route = (res: ServerResponse) => void;

export function serveHealth(port: number, metrics: OperatorMetrics, ready: () => boolean): Server {
  const routes: Record<string, Route> = {
    "/healthz": (res) => res.writeHead(200).end("ok"),
    "/readyz": (res) => {
      const ok = ready();
      res.writeHead(ok ? 200 : 503).end(ok ? "ok" : "not ready");
    },
    "/metrics": (res) =>
      void metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      ),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const route = routes[(req.url ?? "/").split("?")[0] ?? "/"];
    if (route) route(res);
    else res.writeHead(404).end();
  });
  server.listen(port);
  return server;
}
