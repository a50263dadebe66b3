// A TCP proxy on loopback whose upstream port the test sets: the broker's one Redis address, pointed at another
// server after a failover (what Sentinel or a DNS/VIP switch does in production).
import { createServer, type Server, Socket } from "node:net";

export interface SwitchProxy {
  port: number;
  url: string;
  /** Where new connections go; open ones are cut, so clients reconnect to the new target. */
  point(port: number): void;
  /** A partition: open connections are cut (what they had in flight is lost), new ones refused. */
  cut(): void;
  close(): Promise<void>;
}

export async function startSwitchProxy(target: number): Promise<SwitchProxy> {
  let upstream: number | undefined = target;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const remote = new Socket();
    open.add(client);
    open.add(remote);
    const drop = () => {
      client.destroy();
      remote.destroy();
      open.delete(client);
      open.delete(remote);
    };
    client.on("error", drop).on("close", drop);
    remote.on("error", drop).on("close", drop);
    if (upstream === undefined) {
      drop();
      return;
    }
    remote.connect(upstream, "127.0.0.1", () => {
      client.pipe(remote);
      remote.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("proxy has no port");
  const cutAll = () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };
  return {
    port: address.port,
    url: `redis://127.0.0.1:${address.port}`,
    point(port) {
      upstream = port;
      cutAll();
    },
    cut() {
      upstream = undefined;
      cutAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
