// Free TCP ports on loopback for tests that start servers.
import { createServer } from "node:net";

/** A port that was free a moment ago (the OS picks it). Racy by nature; good enough for tests. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
