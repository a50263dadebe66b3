// Publishes the load's messages: through `POST /api/publish` (with the API key) or, without a key, over a
// publisher WebSocket connection. Each message carries its send time so receivers can measure latency.
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { ackFrame, encodeFrame, errorFrame } from "../../../protocol/index.js";
import { LeanSocket, parseWsUrl } from "../ws/lean-socket.js";

export interface Publisher {
  /** Resolves with the message's offset on its channel. */
  publish(channel: string, dataJson: string): Promise<number>;
  close(): void;
}

const publishResponse = z.object({ offset: z.number().int().nonnegative() });

/** The HTTP base (http://host:port) of a ws:// target. */
export function httpBaseOf(wsUrl: string): string {
  const url = new URL(wsUrl);
  return `http://${url.host}`;
}

export function httpPublisher(baseUrls: readonly string[], apiKey: string | undefined): Publisher {
  // Idle sockets close after 5 s (Node's global agent's setting), before uWS's 10 s HTTP idle timeout could close one
  // just as a publish is written on it (ECONNRESET: a failed publish in a long, slow broadcast).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: 5_000 });
  let next = 0;
  return {
    publish(channel, dataJson) {
      const base = new URL(baseUrls[next++ % baseUrls.length] as string);
      const body = `{"channel":${JSON.stringify(channel)},"data":${dataJson}}`;
      return new Promise((resolve, reject) => {
        const request = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            path: "/api/publish",
            method: "POST",
            timeout: 10_000,
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
              ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              if (response.statusCode !== 200) {
                reject(new Error(`publish answered ${response.statusCode}: ${text.slice(0, 200)}`));
                return;
              }
              try {
                resolve(publishResponse.parse(JSON.parse(text)).offset);
              } catch (error) {
                reject(error);
              }
            });
            response.on("error", reject);
          },
        );
        request.on("timeout", () => request.destroy(new Error("publish timed out")));
        request.on("error", reject);
        request.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** A publisher connection speaking the protocol: `publish` frames, answered by acks carrying the offset. */
export function socketPublisher(wsUrl: string, token: string | undefined): Promise<Publisher> {
  const target = parseWsUrl(wsUrl);
  if (token) target.path += `${target.path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
  const waiting = new Map<number, { resolve(offset: number): void; reject(error: Error): void }>();
  let nextId = 1;
  return new Promise((resolveOpen, rejectOpen) => {
    let opened = false;
    // A server that upgrades but never says welcome must not hold the run forever.
    const welcomeTimer = setTimeout(() => {
      if (opened) return;
      rejectOpen(new Error("publisher connection: no welcome within 15 s"));
      socket.destroy();
    }, 15_000);
    const socket = new LeanSocket<null>(
      target,
      {
        open() {},
        message(_socket, payload) {
          let raw: unknown;
          try {
            raw = JSON.parse(payload.toString("utf8"));
          } catch {
            return;
          }
          const type = (raw as { type?: unknown } | null)?.type;
          if (type === "welcome" && !opened) {
            opened = true;
            clearTimeout(welcomeTimer);
            resolveOpen(publisher);
          } else if (type === "ack") {
            const ack = ackFrame.safeParse(raw);
            if (!ack.success) return;
            waiting.get(ack.data.id)?.resolve(ack.data.offset ?? 0);
            waiting.delete(ack.data.id);
          } else if (type === "error") {
            const error = errorFrame.safeParse(raw);
            if (!error.success || error.data.id === undefined) return;
            waiting.get(error.data.id)?.reject(new Error(`${error.data.code}: ${error.data.message}`));
            waiting.delete(error.data.id);
          }
        },
        close(_socket, code, reason) {
          const error = new Error(`publisher connection closed: ${code} ${reason}`);
          clearTimeout(welcomeTimer);
          if (!opened) rejectOpen(error);
          for (const entry of waiting.values()) entry.reject(error);
          waiting.clear();
        },
      },
      null,
    );
    const publisher: Publisher = {
      publish(channel, dataJson) {
        const id = nextId++;
        return new Promise((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          const frame = encodeFrame({ type: "publish", id, channel, data: JSON.parse(dataJson) });
          if (!socket.send(frame) && !socket.isOpen) {
            waiting.delete(id);
            reject(new Error("publisher connection is not open"));
          }
        });
      },
      close() {
        socket.close();
      },
    };
  });
}

/**
 * Several publisher connections used in turn: the gateway limits publishes per connection
 * (RTGW_PUBLISH_RATE, 50/s by default), so a rate of R needs about R / 40 of them.
 */
export async function socketPublishers(
  wsUrl: string,
  token: string | undefined,
  count: number,
): Promise<Publisher> {
  const publishers = await Promise.all(
    Array.from({ length: Math.max(1, count) }, () => socketPublisher(wsUrl, token)),
  );
  let next = 0;
  return {
    publish: (channel, dataJson) =>
      (publishers[next++ % publishers.length] as Publisher).publish(channel, dataJson),
    close: () => {
      for (const publisher of publishers) publisher.close();
    },
  };
}

export interface PublishStats {
  sent: number;
  acked: number;
  failed: number;
  /** Sends skipped because too many were in flight (the target could not keep up with the rate). */
  skipped: number;
  finalOffsets: Record<string, number>;
  errorSamples: string[];
}

/**
 * Publishes at `ratePerSecond` over the channels (round robin) until `stopAt` (epoch ms) or `shouldStop()`.
 * Bounded in flight: when the target falls behind, sends are skipped and counted, never queued without end.
 */
export async function publishAtRate(options: {
  publisher: Publisher;
  channels: readonly string[];
  ratePerSecond: number;
  stopAt: number;
  maxInFlight?: number;
  shouldStop?: () => boolean;
}): Promise<PublishStats> {
  const { publisher, channels, ratePerSecond, stopAt } = options;
  const maxInFlight = options.maxInFlight ?? 256;
  const stats: PublishStats = {
    sent: 0,
    acked: 0,
    failed: 0,
    skipped: 0,
    finalOffsets: {},
    errorSamples: [],
  };
  if (ratePerSecond <= 0) return stats;
  const startedAt = Date.now();
  let inFlight = 0;
  let due = 0;
  let seq = 0;
  while (Date.now() < stopAt && !options.shouldStop?.()) {
    const shouldHaveSent = Math.floor(((Date.now() - startedAt) * ratePerSecond) / 1000);
    while (due < shouldHaveSent) {
      due++;
      if (inFlight >= maxInFlight) {
        stats.skipped++;
        continue;
      }
      const channel = channels[seq % channels.length] as string;
      const data = `{"ts":${performance.timeOrigin + performance.now()},"seq":${seq}}`;
      seq++;
      inFlight++;
      stats.sent++;
      publisher.publish(channel, data).then(
        (offset) => {
          inFlight--;
          stats.acked++;
          stats.finalOffsets[channel] = Math.max(stats.finalOffsets[channel] ?? 0, offset);
        },
        (error: unknown) => {
          inFlight--;
          stats.failed++;
          const message = error instanceof Error ? error.message : String(error);
          if (stats.errorSamples.length < 10 && !stats.errorSamples.includes(message))
            stats.errorSamples.push(message);
        },
      );
    }
    await sleep(5);
  }
  // Let the last publishes answer (bounded), so the final offsets are known.
  const settleUntil = Date.now() + 10_000;
  while (inFlight > 0 && Date.now() < settleUntil) await sleep(10);
  return stats;
}
