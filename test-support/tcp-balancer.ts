// A loopback TCP balancer standing in for a Service in tests: each new connection goes to the next backend in
// turn; a backend that refuses (a drained pod that exited) is skipped for the next one. Bytes are piped as they are.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpBalancer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startTcpBalancer(backends: number[], host = "127.0.0.1"): Promise<TcpBalancer> {
  let next = 0;
  const open = new Set<Socket>();
  const dial = (client: Socket, tries: number) => {
    const port = backends[next++ % backends.length] as number;
    const upstream = connect({ host, port });
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
