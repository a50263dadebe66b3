// The ceiling: the least a uWS.js server can do and still speak our protocol's subscribe/message subset.
// Topics do the fan-out; offsets are a counter in the publishing process (one publisher in the bench);
// with BENCH_REDIS_URL, a publish is relayed through Redis PUBLISH to every process (no history, no recovery).
// Run as a process: BENCH_PORT=... [BENCH_REDIS_URL=redis://...] node --import tsx bare-uws.ts

import uWS from "uWebSockets.js";
import { Redis } from "ioredis";
import { z } from "zod";
import { encodeMessage } from "../../../../protocol/index.js";

const env = z
  .object({ BENCH_PORT: z.coerce.number().int().positive(), BENCH_REDIS_URL: z.string().optional() })
  .parse(process.env);
const publishBody = z.object({ channel: z.string().min(1), data: z.json() });
const subscribeFrame = z.object({ type: z.literal("subscribe"), id: z.number(), channel: z.string().min(1) });

const offsets = new Map<string, number>();
let connections = 0;
const app = uWS.App();
const relay = env.BENCH_REDIS_URL
  ? { pub: new Redis(env.BENCH_REDIS_URL), sub: new Redis(env.BENCH_REDIS_URL) }
  : null;
if (relay) {
  await relay.sub.psubscribe("bare:*");
  relay.sub.on("pmessage", (_pattern: string, redisChannel: string, message: string) => {
    app.publish(redisChannel.slice(5), message);
  });
}

app
  .ws("/ws", {
    idleTimeout: 120,
    maxBackpressure: 4 * 1024 * 1024,
    open(ws) {
      connections++;
      ws.send('{"type":"welcome","connectionId":"c","node":"bare"}');
    },
    message(ws, message) {
      let frame: z.infer<typeof subscribeFrame>;
      try {
        frame = subscribeFrame.parse(JSON.parse(Buffer.from(message).toString("utf8")));
      } catch {
        return;
      }
      ws.subscribe(frame.channel);
      ws.send(`{"type":"ack","id":${frame.id},"offset":${offsets.get(frame.channel) ?? 0}}`);
    },
    close() {
      connections--;
    },
  })
  .get("/api/stats", (res) => {
    res.writeHeader("content-type", "application/json").end(JSON.stringify({ connections }));
  })
  .post("/api/publish", (res) => {
    const chunks: Buffer[] = [];
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      let body: z.infer<typeof publishBody>;
      try {
        body = publishBody.parse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        if (!aborted) res.writeStatus("400 Bad Request").end("bad publish body");
        return;
      }
      const offset = (offsets.get(body.channel) ?? 0) + 1;
      offsets.set(body.channel, offset);
      const encoded = encodeMessage(body.channel, offset, JSON.stringify(body.data));
      if (relay) void relay.pub.publish(`bare:${body.channel}`, encoded);
      else app.publish(body.channel, encoded);
      if (!aborted)
        res.cork(() => res.writeHeader("content-type", "application/json").end(`{"offset":${offset}}`));
    });
  })
  .listen("127.0.0.1", env.BENCH_PORT, (listenSocket) => {
    if (!listenSocket) {
      process.stderr.write(`bare-uws: cannot listen on ${env.BENCH_PORT}\n`);
      process.exit(1);
    }
    process.stdout.write(`listening ${env.BENCH_PORT}\n`);
  });

process.on("SIGTERM", () => process.exit(0));
