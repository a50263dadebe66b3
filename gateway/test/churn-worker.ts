// A churn client process: opens and closes raw WebSocket connections in waves from one source address.
// Usage: node --import tsx gateway/test/churn-worker.ts '{"port":8080,"localAddress":"127.0.0.2","total":10000,"wave":500}'
// With "hold": true it opens `total`, prints {"held":n}, and closes them all when stdin closes.
// Prints one JSON line: {"opened":n,"failed":m}.
import { connect, type Socket } from "node:net";

interface Args {
  port: number;
  host?: string;
  localAddress: string;
  total: number;
  wave: number;
  hold?: boolean;
}
const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const host = args.host ?? "127.0.0.1";
const request =
  "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** A masked client text frame. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([7, 3, 5, 1]);
  return Buffer.concat([
    Buffer.from([0x81, 0x80 | payload.length]),
    mask,
    payload.map((b, i) => b ^ (mask[i % 4] as number)),
  ]);
}
const CLOSE = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]); // masked close 1000 (zero mask)

/** Open one connection; resolve once the welcome frame arrived (the gateway registered it). */
function open(n: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port: args.port, host, localAddress: args.localAddress });
    let seen = "";
    const timer = setTimeout(() => done(false), 10_000);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners("data");
      if (!ok) socket.destroy();
      resolve(ok ? socket : undefined);
    };
    socket.on("error", () => done(false));
    socket.on("data", (chunk) => {
      seen += chunk.toString("latin1");
      if (!seen.startsWith("HTTP/1.1 101")) return seen.length > 12 ? done(false) : undefined;
      if (!seen.includes('"welcome"')) return;
      // Every other connection subscribes, so channel refcounts churn too.
      if (n % 2 === 0) socket.write(textFrame(`{"type":"subscribe","id":1,"channel":"churn:${n % 64}"}`));
      done(true);
    });
    socket.write(request);
  });
}

function close(socket: Socket, n: number) {
  socket.on("error", () => {});
  // Half say goodbye properly, half just vanish.
  if (n % 3 === 0) socket.destroy();
  else socket.end(CLOSE);
}

let opened = 0;
let failed = 0;
if (args.hold) {
  const held: Socket[] = [];
  for (let i = 0; i < args.total; i += args.wave) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(args.wave, args.total - i) }, () => open(1)),
    );
    for (const s of batch) s ? held.push(s) : failed++;
  }
  opened = held.length;
  process.stdout.write(`${JSON.stringify({ held: opened, failed })}\n`);
  process.stdin.resume();
  await new Promise((r) => process.stdin.once("end", r));
  for (const s of held) s.destroy();
} else {
  for (let i = 0; i < args.total; i += args.wave) {
    const count = Math.min(args.wave, args.total - i);
    const batch = await Promise.all(Array.from({ length: count }, (_, k) => open(i + k)));
    batch.forEach((s, k) => {
      if (s) {
        opened++;
        close(s, i + k);
      } else failed++;
    });
  }
}
process.stdout.write(`${JSON.stringify({ opened, failed })}\n`);
process.exit(0);
