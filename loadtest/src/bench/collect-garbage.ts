// A full garbage collection in a server process under measurement, asked for through its inspector
// (HeapProfiler.collectGarbage over the DevTools protocol), so an RSS reading counts what is alive, not whatever
// garbage the last collection happened to leave. Every system under test is a Node process: the same for all.
import WebSocket from "ws";
import { z } from "zod";

const targets = z.array(z.object({ webSocketDebuggerUrl: z.string().startsWith("ws://127.0.0.1:") }));

/** NODE_OPTIONS that open a server's inspector on a loopback port. */
export const inspectorOptions = (port: number) => `--inspect=127.0.0.1:${port}`;

/** One full collection in the process whose inspector listens on `port` (loopback); at most `timeoutMs`. */
export async function collectGarbage(port: number, timeoutMs = 30_000): Promise<void> {
  const listed = targets.parse(await (await fetch(`http://127.0.0.1:${port}/json/list`)).json());
  const url = listed[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no garbage collection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      ws.once("error", reject);
      ws.once("open", () => ws.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" })));
      ws.on("message", (data) => {
        const reply = z.object({ id: z.number() }).safeParse(JSON.parse(String(data)));
        if (reply.success && reply.data.id === 1) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    ws.close();
  }
}
