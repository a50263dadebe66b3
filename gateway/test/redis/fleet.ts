// A small fleet for multi-process tests: one Redis, several real gateway processes on RTGW_BROKER=redis, and a
// TCP "service" in front of them that sends each new connection to a ready gateway (as a Kubernetes Service does
// once readiness fails), so a client's reconnect lands on another pod.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { after, before } from "node:test";
import { WebSocket } from "ws";
import { type Client, connect, type ResyncEvent } from "../../../client/src/index.js";
import { type GatewayProcess, startGateway } from "../../../test-support/gateway.js";
import { freePort } from "../../../test-support/ports.js";
import { type RedisServer, startRedis } from "../../../test-support/redis.js";
import { until as waitUntil } from "../../../test-support/wait.js";
import { connect as connectTest, type TestClient } from "../client.js";
import { type ApiAnswer, callApi, JWT_ENV, userToken } from "../server-api-support.js";

export const API_KEY = "redis-fleet-test-key-0123";

export function startGateways(redisUrl: string, count: number, env: Record<string, string> = {}) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startGateway({
        env: {
          RTGW_BROKER: "redis",
          RTGW_REDIS_URL: redisUrl,
          RTGW_NODE_ID: `gw-${i}-${process.pid}`,
          RTGW_API_KEY: API_KEY,
          RTGW_HISTORY_SIZE: "10000",
          RTGW_PUBLISH_RATE: "100000",
          RTGW_PUBLISH_BURST: "100000",
          ...env,
        },
      }),
    ),
  );
}

/** A Redis and gateways with JWT users and the server API, as the enclosing describe block's before/after hooks. */
export interface ApiFleet {
  /** Set once the describe block's before hook has run. */
  readonly redis: RedisServer;
  readonly gws: GatewayProcess[];
  /** POST /api/<method> on `gw` with the fleet's key. */
  api(gw: GatewayProcess, method: string, body: unknown): Promise<ApiAnswer>;
  /** A test socket on `gw` for the user `sub` (rights on every channel), terminated by the after hook. */
  user(gw: GatewayProcess, sub: string): Promise<TestClient>;
}

/**
 * Registers before/after hooks that start a Redis and `count` gateways on it (JWT auth plus `env()`, read when the
 * hook runs, so an earlier hook may prepare it) and stop them: the setup every server-API fleet test shares.
 */
export function apiFleet(count: number, env: () => Record<string, string> = () => ({})): ApiFleet {
  let redis: RedisServer | undefined;
  let gws: GatewayProcess[] | undefined;
  const sockets: TestClient[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error("the fleet is not started: use it inside the describe block's tests");
    return value;
  };
  before(async () => {
    redis = await startRedis();
    gws = await startGateways(redis.url, count, { ...JWT_ENV, ...env() });
  });
  after(async () => {
    for (const c of sockets) c.ws.terminate();
    await Promise.all((gws ?? []).map((g) => g.stop(2000)));
    await redis?.stop();
  });
  return {
    get redis() {
      return started(redis);
    },
    get gws() {
      return started(gws);
    },
    api: (gw, method, body) => callApi(gw.url, method, body, API_KEY),
    user: async (gw, sub) => {
      const c = await connectTest(`${gw.wsUrl}?token=${await userToken(sub)}`);
      sockets.push(c);
      return c;
    },
  };
}

export interface Service {
  url: string;
  /** Which gateway new connections go to; undefined refuses them (connection reset). */
  route: (pick: () => GatewayProcess | undefined) => void;
  /** Cut every open connection (each client sees its socket drop and reconnects through `route`). */
  cut(): void;
  /** Stop reading from the gateways (a stuck reader: their send buffers fill); resume() reads again. */
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

/** A TCP pass-through on a free port: each accepted connection is piped to the gateway `pick` returns. */
export async function startService(initial: () => GatewayProcess | undefined): Promise<Service> {
  let pick = initial;
  const sockets = new Set<Socket>();
  /** Each gateway-side socket and the client socket it feeds. */
  const upstreams = new Map<Socket, Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    const target = pick();
    if (!target) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: "127.0.0.1", port: target.port });
    sockets.add(upstream);
    upstreams.set(upstream, client);
    upstream.on("close", () => {
      sockets.delete(upstream);
      upstreams.delete(upstream);
      client.destroy();
    });
    client.on("close", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    route: (next) => {
      pick = next;
    },
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    stall: () => {
      for (const [upstream, client] of upstreams) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    resume: () => {
      for (const [upstream, client] of upstreams) upstream.pipe(client);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Round robin over the gateways whose /readyz answers 200 (polled in the background). */
export function readyRoundRobin(gateways: GatewayProcess[]): {
  pick: () => GatewayProcess | undefined;
  stop(): void;
} {
  const ready = new Set(gateways);
  let next = 0;
  const poll = setInterval(() => {
    for (const gw of gateways) {
      fetch(`${gw.url}/readyz`, { signal: AbortSignal.timeout(500) })
        .then((res) => (res.ok ? ready.add(gw) : ready.delete(gw)))
        .catch(() => ready.delete(gw));
    }
  }, 100);
  return {
    pick: () => {
      const live = gateways.filter((g) => ready.has(g));
      if (live.length === 0) return undefined;
      return live[next++ % live.length];
    },
    stop: () => clearInterval(poll),
  };
}

export async function httpPublish(
  baseUrl: string,
  channel: string,
  data: unknown,
): Promise<{ status: number; offset?: number; epoch?: string }> {
  const res = await fetch(`${baseUrl}/api/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ channel, data }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { offset?: number; epoch?: string };
  return { status: res.status, ...body };
}

export async function readyStatus(gw: GatewayProcess): Promise<number> {
  try {
    return (await fetch(`${gw.url}/readyz`, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return 0;
  }
}

/** A client SDK subscriber that keeps everything it was handed, for exactly-once/in-order checks. */
export interface Tally {
  client: Client;
  /** Settles with the subscription's first ack: from then on every message published reaches `received`. */
  ready: Promise<unknown>;
  received: Array<{ offset: number; epoch: string | undefined; n: number }>;
  resyncs: ResyncEvent[];
  /** When the client (re)connected, ms since epoch. */
  connects: number[];
  duplicates(): number;
  outOfOrder(): number;
}

export function tally(url: string, channel: string, options: Parameters<typeof connect>[1] = {}): Tally {
  const client = connect(url, { WebSocket, backoff: { baseMs: 100, maxMs: 1000 }, ...options });
  const t: Tally = {
    client,
    ready: Promise.resolve(),
    received: [],
    resyncs: [],
    connects: [],
    duplicates: () => {
      const seen = new Set<string>();
      let dup = 0;
      for (const r of t.received) {
        const key = `${r.epoch}/${r.offset}`;
        if (seen.has(key)) dup++;
        seen.add(key);
      }
      return dup;
    },
    outOfOrder: () => {
      let bad = 0;
      for (let i = 1; i < t.received.length; i++) {
        const a = t.received[i - 1];
        const b = t.received[i];
        if (a && b && a.epoch === b.epoch && b.offset !== a.offset + 1) bad++;
      }
      return bad;
    },
  };
  client.on("resync", (event) => t.resyncs.push(event));
  client.on("state", (change) => {
    if (change.state === "connected") t.connects.push(Date.now());
  });
  t.ready = client.subscribe(channel, (data, meta) => {
    const n =
      typeof data === "object" && data !== null ? Number((data as Record<string, unknown>).n ?? -1) : -1;
    t.received.push({ offset: meta.offset, epoch: meta.epoch, n });
  }).ready;
  return t;
}

export { sleep } from "../../../test-support/wait.js";

/** As test-support's `until`, with the longer default a fleet of processes needs. */
export const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) =>
  waitUntil(what, check, timeoutMs);
