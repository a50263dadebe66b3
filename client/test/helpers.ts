// Shared pieces of the client's integration tests: a `ws` constructor that records what it sends, polling
// with a deadline, and HTTP publishing.
import { createConnection as connectTcp, createServer, type Socket } from "node:net";
import { WebSocket } from "ws";
import type { Client, ResyncEvent, StateChange } from "../src/index.js";

export interface SocketLog {
  /** How many sockets the client created. */
  opened: number;
  /** Every frame the client sent, parsed. */
  sent: Array<Record<string, unknown>>;
  /** The URL of every connection attempt. */
  urls: string[];
}

/** A `ws` WebSocket that records every connection attempt and frame sent. */
export function recordingWebSocket(): { WebSocket: typeof WebSocket; log: SocketLog } {
  const log: SocketLog = { opened: 0, sent: [], urls: [] };
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      log.opened += 1;
      log.urls.push(url);
    }
    override send(data: string): void {
      log.sent.push(JSON.parse(data) as Record<string, unknown>);
      super.send(data);
    }
  }
  return { WebSocket: Recording as typeof WebSocket, log };
}

export { until } from "../../test-support/wait.js";

export function stateLog(client: Client): Array<StateChange & { at: number }> {
  const log: Array<StateChange & { at: number }> = [];
  client.on("state", (change) => log.push({ ...change, at: Date.now() }));
  return log;
}

/**
 * A client on a recording WebSocket, subscribed to `channel`, keeping everything the drain and shed tests check:
 * offsets received, reconnect notices, resyncs, state changes, frames sent, and the subscription's first ack.
 */
export function recordedSubscriber(open: (WebSocketClass: typeof WebSocket) => Client, channel: string) {
  const recorder = recordingWebSocket();
  const client = open(recorder.WebSocket);
  const got: number[] = [];
  const notices: Array<{ at: number; afterMs: number }> = [];
  const resyncs: ResyncEvent[] = [];
  client.on("reconnect", (n) => notices.push({ at: Date.now(), afterMs: n.afterMs }));
  client.on("resync", (e) => resyncs.push(e));
  const states = stateLog(client);
  const ready = client.subscribe(channel, (_data, meta) => got.push(meta.offset)).ready;
  return { client, got, notices, resyncs, states, log: recorder.log, ready };
}

export async function httpPublish(
  baseUrl: string,
  apiKey: string,
  channel: string,
  data: unknown,
): Promise<number> {
  const res = await fetch(`${baseUrl}/api/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ channel, data }),
  });
  const body = (await res.json()) as { offset?: number };
  if (!res.ok || typeof body.offset !== "number")
    throw new Error(`publish failed: ${res.status} ${JSON.stringify(body)}`);
  return body.offset;
}

export interface Balancer {
  /** ws://127.0.0.1:port/ws through the balancer. */
  wsUrl: string;
  /** Which gateway ports new connections go to (round robin), like a Service's ready endpoints. */
  setBackends(ports: number[]): void;
  close(): Promise<void>;
}

/** A loopback TCP balancer in front of gateways: the one URL a client knows, as a Service would be. */
export async function startBalancer(ports: number[]): Promise<Balancer> {
  let backends = [...ports];
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    const port = backends[next++ % Math.max(1, backends.length)];
    if (port === undefined) return client.destroy();
    const upstream = connectTcp(port, "127.0.0.1");
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once("error", end);
    upstream.once("error", end);
    client.once("close", end);
    upstream.once("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    setBackends(list) {
      backends = [...list];
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
