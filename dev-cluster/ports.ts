// A free TCP port on loopback for a server another process will bind (a gateway, Redis). Drawn below the kernel's
// ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default), where the source ports of this machine's
// outgoing connections come from: a port the kernel handed out with listen(0) can be taken as some connection's
// source port before the child binds it (seen as EADDRINUSE under load). Here only another listener can take it.
// Still a check-then-use: a port is free when drawn; no other listener on the machine is expected in that range.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const RANGE_LOW = 20_000;
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > RANGE_LOW + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}
const RANGE_HIGH = ephemeralLow() - 1;

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW));
    if (handedOut.has(port)) continue;
    if (await bindable(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${RANGE_LOW} and ${RANGE_HIGH} on ${host} after 200 tries`);
}
