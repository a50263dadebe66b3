// A test WebSocket client (`ws`) that records every server frame and waits for the ones a test expects.
import WebSocket from "ws";
import { decodeServerFrames, type ServerFrame } from "../../protocol/index.js";

export interface TestClient {
  ws: WebSocket;
  frames: ServerFrame[];
  /** Raw text frames as received (a batch is one entry). */
  raw: string[];
  send(frame: unknown): void;
  /** Wait for the next frame (already received or future) matching `pred`, not consumed before. */
  next<T extends ServerFrame = ServerFrame>(
    pred: (f: ServerFrame) => boolean,
    timeoutMs?: number,
  ): Promise<T>;
  /** Send a frame with an id and wait for the ack or error with that id. */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<ServerFrame>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

let nextId = 1;

export function connect(
  url: string,
  options: { headers?: Record<string, string>; localAddress?: string } = {},
) {
  return new Promise<TestClient>((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: options.headers,
      localAddress: options.localAddress,
      handshakeTimeout: 10_000,
    });
    const frames: ServerFrame[] = [];
    const raw: string[] = [];
    const waiters: { pred: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
    const consumed = new Set<ServerFrame>();
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once("close", (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on("message", (data) => {
      const text = data.toString();
      raw.push(text);
      for (const f of decodeServerFrames(text)) {
        frames.push(f);
        const i = waiters.findIndex((w) => w.pred(f));
        if (i >= 0) {
          consumed.add(f);
          waiters.splice(i, 1)[0]?.resolve(f);
        }
      }
    });
    const client: TestClient = {
      ws,
      frames,
      raw,
      closed,
      send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
      next(pred, timeoutMs = 5000) {
        const found = frames.find((f) => !consumed.has(f) && pred(f));
        if (found) {
          consumed.add(found);
          return Promise.resolve(found as never);
        }
        return new Promise((res, rej) => {
          const timer = setTimeout(
            () => rej(new Error(`timed out waiting for a frame; got ${JSON.stringify(frames)}`)),
            timeoutMs,
          );
          waiters.push({
            pred,
            resolve: (f) => {
              clearTimeout(timer);
              res(f as never);
            },
          });
        });
      },
      request(frame, timeoutMs) {
        const id = nextId++;
        ws.send(JSON.stringify({ ...frame, id }));
        return client.next(
          (f) => (f.type === "ack" || f.type === "error" || f.type === "pong") && f.id === id,
          timeoutMs,
        );
      },
      close: () => ws.close(),
    };
    ws.once("open", () => resolve(client));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** The HTTP status a refused upgrade got (or 101). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once("error", (e) => {
      if (!String(e.message).startsWith("Unexpected server response")) reject(e);
    });
  });
}

/** Scrape one sample from Prometheus text: `rtgw_x` or `rtgw_x{reason="full"}`. */
export async function metric(metricsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
  }
  return Number.NaN;
}
