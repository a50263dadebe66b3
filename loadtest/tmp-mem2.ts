import { LeanSocket } from "./src/ws/lean-socket.js";

const gc = (globalThis as { gc?: () => void }).gc!;
const N = 10000;
let open = 0;
const handlers = {
  open() {
    open++;
  },
  message() {},
  close() {},
};
gc();
await new Promise((r) => setTimeout(r, 500));
gc();
const m0 = process.memoryUsage();
const socks: LeanSocket<number>[] = [];
for (let i = 0; i < N; i++) {
  socks.push(
    new LeanSocket({ host: "127.0.0.1", port: 18112, path: "/ws" }, handlers, i, {
      localAddress: `127.1.0.${1 + (i % 2)}`,
    }),
  );
  if (i % 500 === 0) await new Promise((r) => setTimeout(r, 50));
}
while (open < N) await new Promise((r) => setTimeout(r, 100));
await new Promise((r) => setTimeout(r, 1000));
gc();
await new Promise((r) => setTimeout(r, 500));
gc();
const m1 = process.memoryUsage();
for (const k of ["rss", "heapUsed", "external", "arrayBuffers"] as const)
  console.log(k, Math.round((m1[k] - m0[k]) / N));
for (const s of socks) s.destroy();
process.exit(0);
