// Regression: closing a client whose `ws` socket is still connecting must not crash the process
// (ws emits `error` on an abandoned handshake; a socket with no error listener throws it).
import assert from "node:assert/strict";
import net from "node:net";
import { after, test } from "node:test";
import { WebSocket } from "ws";
import { sleep } from "../../test-support/wait.js";
import { connect } from "../src/index.js";

test("close() during the handshake leaves no unhandled error", async () => {
  // Accepts TCP and never answers the upgrade, so the socket stays CONNECTING.
  const held: net.Socket[] = [];
  const server = net.createServer((s) => held.push(s));
  after(() => {
    for (const s of held) s.destroy();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  try {
    const client = connect(`ws://127.0.0.1:${port}/ws`, { WebSocket });
    await sleep(200);
    assert.equal(held.length, 1, "the client opened its TCP connection");
    client.close();
    await sleep(300);
    assert.equal(client.state, "closed");
    assert.deepEqual(uncaught, []);
  } finally {
    process.off("uncaughtException", onUncaught);
  }
});
