// Publishing into a Pusher-protocol server (Soketi) the way its users do: POST /apps/<id>/events on its HTTP API,
// signed with the app's key and secret (Pusher's auth_signature). Pusher has no offsets, so this publisher numbers
// each channel's messages itself (as the bare uWS and Socket.IO baselines do in their publishing process) and
// sends them inside the event's data string, which the load workers' pusher dialect unwraps.
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import { PUSHER_EVENT } from "../load/dialect.js";
import type { Publisher } from "../load/publisher.js";

export interface PusherApp {
  id: string;
  key: string;
  secret: string;
}

/**
 * The query string of a signed Pusher HTTP API request: auth_key, auth_timestamp, auth_version and body_md5,
 * sorted, then auth_signature = HMAC-SHA256(secret, "METHOD\npath\nsorted query") in hex.
 */
export function pusherSignedQuery(
  method: string,
  path: string,
  body: string,
  app: Pick<PusherApp, "key" | "secret">,
  timestampSeconds: number,
): string {
  const params: Record<string, string> = {
    auth_key: app.key,
    auth_timestamp: String(timestampSeconds),
    auth_version: "1.0",
    body_md5: createHash("md5").update(body, "utf8").digest("hex"),
  };
  const query = Object.keys(params)
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join("&");
  const signature = createHmac("sha256", app.secret)
    .update([method.toUpperCase(), path, query].join("\n"))
    .digest("hex");
  return `${query}&auth_signature=${signature}`;
}

/** The data string of one triggered event: the channel's next offset around the bench's payload (JSON text). */
export function pusherEventBody(channel: string, offset: number, dataJson: string): string {
  return JSON.stringify({
    name: PUSHER_EVENT,
    channel,
    data: `{"offset":${offset},"data":${dataJson}}`,
  });
}

export function pusherPublisher(baseUrls: readonly string[], app: PusherApp): Publisher {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const offsets = new Map<string, number>();
  const path = `/apps/${app.id}/events`;
  let next = 0;
  return {
    publish(channel, dataJson) {
      const base = new URL(baseUrls[next++ % baseUrls.length] as string);
      const offset = (offsets.get(channel) ?? 0) + 1;
      offsets.set(channel, offset);
      const body = pusherEventBody(channel, offset, dataJson);
      const query = pusherSignedQuery("POST", path, body, app, Math.floor(Date.now() / 1000));
      return new Promise((resolve, reject) => {
        const request = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            path: `${path}?${query}`,
            method: "POST",
            timeout: 10_000,
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
              if (response.statusCode === 200) resolve(offset);
              else
                reject(
                  new Error(
                    `pusher trigger answered ${response.statusCode}: ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`,
                  ),
                );
            });
            response.on("error", reject);
          },
        );
        request.on("timeout", () => request.destroy(new Error("pusher trigger timed out")));
        request.on("error", reject);
        request.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
