// A fake application backend for the backend-hook tests: a node http server answering the gateway's connect,
// subscribe, publish and refresh calls by a few rules on the cookie and the channel name, recording every call,
// and counting the sockets and the calls in flight per hook (from the x-hook header the config sends).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface BackendCall {
  hook: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

export interface FakeBackend {
  url: string;
  calls: BackendCall[];
  /** Distinct TCP connections each hook's calls came on (reset with `resetCounts`). */
  sockets: Map<string, Set<Socket>>;
  /** The most calls in flight at once, per hook (reset with `resetCounts`). */
  peak: Map<string, number>;
  resetCounts(): void;
  close(): Promise<void>;
}

/** How long a "slow" answer takes: well past every timeout the tests configure. */
export const SLOW_MS = 2000;
const seconds = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The backend's rules: what each hook answers (undefined: sleep past the timeout first). */
async function answer(hook: string, body: Record<string, unknown>): Promise<unknown> {
  const channel = String(body.channel ?? "");
  if (hook === "connect") {
    const cookie = String((body.headers as Record<string, string> | undefined)?.cookie ?? "");
    const session = /session=(\w+)/.exec(cookie)?.[1];
    if (session === "slow") await sleep(SLOW_MS);
    if (session === "alice" || session === "slow")
      return {
        result: {
          user: "alice",
          subscribe: ["open:*", "news:*"],
          publish: ["open:*", "news:*"],
          channels: ["news:alice", "news:all"],
        },
      };
    if (session === "short" || session === "ending")
      return { result: { user: session, expireAt: seconds() + 2, subscribe: ["open:*"] } };
    if (session === "gone") return { disconnect: { code: 4500, reason: "banned" } };
    return { error: { code: 1000, message: "no session" } };
  }
  if (hook === "subscribe") {
    if (channel.endsWith(":deny")) return { error: { message: `not yours: ${channel}` } };
    if (channel.endsWith(":subslow")) await sleep(SLOW_MS);
    if (channel.includes(":pool")) await sleep(100);
    return { result: {} };
  }
  if (hook === "publish") {
    if (channel.endsWith(":pubdeny")) return { error: { message: "read only" } };
    if (channel.endsWith(":pubslow")) await sleep(SLOW_MS);
    if (channel.endsWith(":rewrite")) return { result: { data: { rewritten: body.data, by: body.user } } };
    if (channel.endsWith(":huge")) return { result: { data: "x".repeat(200_000) } };
    if (channel.endsWith(":garbage")) return { verdict: "yes" }; // neither result, error nor disconnect
    return { result: {} };
  }
  if (hook === "refresh") {
    if (body.user === "short") return { result: { expireAt: seconds() + 3 } };
    return { result: { expired: true } };
  }
  return { error: { message: "unknown hook" } };
}

export async function startBackend(): Promise<FakeBackend> {
  const calls: BackendCall[] = [];
  const sockets = new Map<string, Set<Socket>>();
  const peak = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const hook = String(req.headers["x-hook"] ?? "none");
    const held = sockets.get(hook) ?? new Set();
    held.add(req.socket);
    sockets.set(hook, held);
    inFlight.set(hook, (inFlight.get(hook) ?? 0) + 1);
    peak.set(hook, Math.max(peak.get(hook) ?? 0, inFlight.get(hook) ?? 0));
    // In flight until answered or abandoned by the gateway (its timeout closes the socket).
    res.once("close", () => inFlight.set(hook, (inFlight.get(hook) ?? 1) - 1));
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as Record<string, unknown>;
      calls.push({ hook, headers: req.headers, body });
      const reply = await answer(hook, body);
      if (!res.destroyed)
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    sockets,
    peak,
    resetCounts() {
      sockets.clear();
      peak.clear();
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
