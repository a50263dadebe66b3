// A loopback TCP balancer: what kube-proxy does for one Service port. Each new connection goes to the next of the
// endpoints `endpoints()` returns at that moment (round robin, as kube-proxy's IPVS mode); a refused endpoint (a
// pod that has just exited) is skipped for the next one; no endpoints, the connection is refused. Bytes are piped
// as they are, so HTTP, keep-alive and WebSocket upgrades pass through. The dev cluster's Service proxies
// (service-proxy.ts) feed it from the pods' Ready conditions; tests (test-support/tcp-balancer.ts) from /readyz.
import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Endpoint {
  ip: string;
  port: number;
}

export interface TcpBalancer {
  port: number;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

export interface TcpBalancerOptions {
  /** The endpoints now (asked at each new connection). */
  endpoints: () => readonly Endpoint[];
  /** Where to listen (default 127.0.0.1, any free port). */
  host?: string;
  port?: number;
}

/** The endpoint to dial for the `n`th connection, or undefined with none. Pure. */
export function pickEndpoint(endpoints: readonly Endpoint[], n: number): Endpoint | undefined {
  return endpoints.length === 0 ? undefined : endpoints[n % endpoints.length];
}

export async function startTcpBalancer(o: TcpBalancerOptions): Promise<TcpBalancer> {
  const host = o.host ?? "127.0.0.1";
  const open = new Set<Socket>();
  let next = 0;
  const track = (s: Socket) => {
    open.add(s);
    s.once("close", () => open.delete(s));
  };
  const dial = (client: Socket, tries: number) => {
    const ep = pickEndpoint(o.endpoints(), next++);
    // No endpoint: refused, as a Service without endpoints rejects the connection.
    if (!ep) return void client.destroy();
    const upstream = connect({ host: ep.ip, port: ep.port });
    track(upstream);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      upstream.setNoDelay(true);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once("error", () => {
      if (!connected && tries > 1 && !client.destroyed) dial(client, tries - 1);
      else client.destroy();
    });
    upstream.once("close", () => {
      if (connected) client.end();
    });
    client.once("close", () => upstream.destroy());
  };
  // Paused until an upstream accepts: nothing the client sent is lost when a refused endpoint is skipped.
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    client.setNoDelay(true);
    client.on("error", () => client.destroy());
    dial(client, Math.max(1, o.endpoints().length));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
