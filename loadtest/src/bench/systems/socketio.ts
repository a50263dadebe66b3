// Socket.IO 4.8 as people deploy it for this job: websocket transport only, rooms as channels, and
// @socket.io/redis-adapter to span processes. Offsets are a counter in the publishing process.
// Run as a process: BENCH_PORT=... [BENCH_REDIS_URL=redis://...] node --import tsx socketio.ts
import http from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { z } from "zod";

const env = z
  .object({ BENCH_PORT: z.coerce.number().int().positive(), BENCH_REDIS_URL: z.string().optional() })
  .parse(process.env);
const publishBody = z.object({ channel: z.string().min(1), data: z.json() });

const offsets = new Map<string, number>();
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/api/stats") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ connections: io.engine.clientsCount }));
    return;
  }
  if (req.method !== "POST" || req.url !== "/api/publish") return;
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    let body: z.infer<typeof publishBody>;
    try {
      body = publishBody.parse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    } catch {
      res.statusCode = 400;
      res.end("bad publish body");
      return;
    }
    const offset = (offsets.get(body.channel) ?? 0) + 1;
    offsets.set(body.channel, offset);
    io.to(body.channel).emit("message", { channel: body.channel, offset, data: body.data });
    res.setHeader("content-type", "application/json");
    res.end(`{"offset":${offset}}`);
  });
});
const io = new Server(server, { transports: ["websocket"], serveClient: false, perMessageDeflate: false });
if (env.BENCH_REDIS_URL) {
  io.adapter(createAdapter(new Redis(env.BENCH_REDIS_URL), new Redis(env.BENCH_REDIS_URL)));
}
io.on("connection", (socket) => {
  socket.on("subscribe", (channel: unknown, ack: unknown) => {
    if (typeof channel !== "string") return;
    void socket.join(channel);
    if (typeof ack === "function") ack({ offset: offsets.get(channel) ?? 0 });
  });
});
server.listen(env.BENCH_PORT, "127.0.0.1", () => process.stdout.write(`listening ${env.BENCH_PORT}\n`));
process.on("SIGTERM", () => process.exit(0));
