// A loopback TCP balancer standing in for a Service in tests: each new connection goes to the next ready backend
// in turn. Like a Service's endpoints, readiness follows each backend's GET <readyPath> (polled every 100 ms), so a
// draining pod (503) gets no new connections; a backend that refuses (one that exited) is skipped for the next.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpBalancer {
  port: number;
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

export async function startTcpBalancer(
  backends: number[],
  options: { host?: string; readyPath?: string } = {},
): Promise<TcpBalancer> {
  const host = options.host ?? "127.0.0.1";
  const ready = new Set(backends);
  let polling: NodeJS.Timeout | undefined;
  let closed = false;
  if (options.readyPath) {
    const poll = async () => {
      await Promise.all(
        backends.map(async (port) => {
          const ok = await fetch(`http://${host}:${port}${options.readyPath}`, {
            signal: AbortSignal.timeout(500),
          })
            .then((res) => res.ok)
            .catch(() => false);
          if (ok) ready.add(port);
          else ready.delete(port);
        }),
      );
      if (!closed) polling = setTimeout(() => void poll(), 100);
    };
    await poll();
  }
  let next = 0;
  const pick = (): number => {
    const candidates = backends.filter((port) => ready.has(port));
    const from = candidates.length > 0 ? candidates : backends;
    return from[next++ % from.length] as number;
  };
  const open = new Set<Socket>();
  const dial = (client: Socket, tries: number) => {
    const upstream = connect({ host, port: pick() });
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      open.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once("error", () => {
      open.delete(upstream);
      if (!connected && tries > 1 && !client.destroyed) dial(client, tries - 1);
      else client.destroy();
    });
    upstream.once("close", () => {
      open.delete(upstream);
      if (connected) client.end();
    });
    client.once("close", () => upstream.destroy());
  };
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    dial(client, backends.length);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        clearTimeout(polling);
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
