// A loopback TCP balancer standing in for a Service in tests: the dev cluster's balancer (dev-cluster/
// tcp-balancer.ts: round robin, a refused backend skipped) over backends whose readiness follows each one's
// GET <readyPath> (polled every 100 ms), so a draining pod (503) gets no new connections. With none ready, every
// backend is tried (a test starting before its backends are ready still connects).
import { startTcpBalancer as startBalancer } from "../dev-cluster/tcp-balancer.js";

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
  const endpoints = () => {
    const candidates = backends.filter((port) => ready.has(port));
    return (candidates.length > 0 ? candidates : backends).map((port) => ({ ip: host, port }));
  };
  const balancer = await startBalancer({ endpoints, host });
  return {
    port: balancer.port,
    url: balancer.url,
    wsUrl: `ws://${host}:${balancer.port}/ws`,
    close: async () => {
      closed = true;
      clearTimeout(polling);
      await balancer.close();
    },
  };
}
