// The Service stand-in. A ClusterIP Service is kube-proxy picking a random ready endpoint for each new connection;
// here the pod simulator publishes the ready endpoints on a small HTTP feed, and every client process keeps a fresh
// copy (polled, as kube-proxy follows EndpointSlices) and picks a random endpoint for each new WebSocket. No proxy
// in the data path: a proxy would need two more sockets per connection, and kube-proxy has none either (DNAT).
// (The e2e harness's 62,000 clients use this; `rtgw dev-cluster` serves real clients through service-proxy.ts.)
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket } from "ws";
import { z } from "zod";

export interface Endpoint {
  ip: string;
  port: number;
}

const endpointList = z.array(z.object({ ip: z.string(), port: z.number().int() }));

/** Serves GET /endpoints → [{ip, port}] from `current()`. */
export async function startEndpointsFeed(
  current: () => Endpoint[],
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url !== "/endpoints") {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.stringify(current().map(({ ip, port }) => ({ ip, port })));
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/endpoints`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The client side: follows the feed and picks an endpoint per connection. */
export class ServiceEndpoints {
  private list: Endpoint[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly feedUrl: string,
    private readonly pollMs = 250,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    const loop = () => {
      void this.refresh().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(loop, this.pollMs);
      });
    };
    this.timer = setTimeout(loop, this.pollMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async refresh(): Promise<void> {
    try {
      const res = await fetch(this.feedUrl, { signal: AbortSignal.timeout(2_000) });
      const parsed = endpointList.safeParse(await res.json());
      if (parsed.success) this.list = parsed.data;
    } catch {
      // keep the last known endpoints, as kube-proxy does when the API is unreachable
    }
  }

  /** A random ready endpoint, or undefined when none is ready (the connection then fails and is retried). */
  pick(random: () => number = Math.random): Endpoint | undefined {
    if (this.list.length === 0) return undefined;
    return this.list[Math.floor(random() * this.list.length)];
  }

  size(): number {
    return this.list.length;
  }
}

/**
 * A WebSocket constructor (the `ws` package's) that sends each connection to a random ready endpoint of the
 * Service, from one of `localAddresses` at random (spreads source ports over many loopback addresses).
 */
export function serviceWebSocket(service: ServiceEndpoints, localAddresses: readonly string[] = []) {
  return class ServiceWebSocket extends WebSocket {
    constructor(url: string) {
      const target = new URL(url);
      const ep = service.pick();
      // No ready endpoint: like a Service with no endpoints, the connection is refused.
      target.hostname = ep?.ip ?? "127.0.0.1";
      target.port = String(ep?.port ?? 1);
      const localAddress = localAddresses[Math.floor(Math.random() * localAddresses.length)];
      super(target.toString(), { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
      // ws emits 'error' when a socket still connecting is closed; the SDK has already dropped its onerror by
      // then, and an EventEmitter 'error' without a listener would take the whole client process down.
      this.on("error", () => undefined);
    }
  };
}
