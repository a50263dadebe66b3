// The browser bundle app developers ship: esbuild --bundle --minify --format=esm --platform=browser of
// client/src/index.ts. It must stay small (the protocol is on zod/mini, and the client keeps only the
// server-frame schemas) and, minified as it is, still reject server frames the protocol does not allow.
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import type * as Sdk from "../src/index.js";
import type { WebSocketLike } from "../src/index.js";
import { until } from "./helpers.js";

const ENTRY = resolve(dirname(fileURLToPath(import.meta.url)), "../src/index.ts");

// Measured 42,859 B raw and 13,483 B gzipped (zod/mini ~27 KB of it; it was ~470 KB / ~98 KB on classic zod;
// 41,285 / 13,049 before the epoch mark, the subscribe retries and the channels module).
// Budgets: that plus ~15%.
const RAW_BUDGET = 47_500;
const GZIP_BUDGET = 15_000;
// With the SSE fallback module (client/src/sse.ts, opt-in: `SSE: SseSocket`) as well: measured 51,823 B raw and
// 16,480 B gzipped (the core then was 46,730 / 14,672: the fallback adds ~5.0 KB / ~1.8 KB). Budgets: ~+6%.
const SSE_RAW_BUDGET = 55_000;
const SSE_GZIP_BUDGET = 17_500;
const SSE_ENTRY = resolve(dirname(fileURLToPath(import.meta.url)), "../src/sse.ts");

async function browserBundle(withSse = false): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    ...(withSse
      ? {
          stdin: {
            contents: `export * from ${JSON.stringify(ENTRY)}; export * from ${JSON.stringify(SSE_ENTRY)};`,
            resolveDir: dirname(ENTRY),
            loader: "ts" as const,
          },
        }
      : { entryPoints: [ENTRY] }),
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const output = result.outputFiles[0];
  assert.ok(output, "esbuild produced a bundle");
  // metafile.inputs lists every file esbuild read; the output's own inputs say which ones left code behind.
  const [bundled] = Object.values(result.metafile.outputs);
  const inputs = Object.entries(bundled?.inputs ?? {}).filter(([, i]) => i.bytesInOutput > 0);
  return { code: output.text, inputs: inputs.map(([path]) => path) };
}

/** An in-memory socket: the test plays the gateway by calling its handlers. */
class FakeSocket implements WebSocketLike {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  onopen: WebSocketLike["onopen"] = null;
  onmessage: WebSocketLike["onmessage"] = null;
  onclose: WebSocketLike["onclose"] = null;
  onerror: WebSocketLike["onerror"] = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }
}

describe("client browser bundle", { timeout: 60_000 }, () => {
  it(`stays within ${RAW_BUDGET} B minified and ${GZIP_BUDGET} B gzipped, with no classic zod`, async () => {
    const { code, inputs } = await browserBundle();
    const raw = Buffer.byteLength(code);
    const gzip = gzipSync(code).length;
    const notMini = inputs.filter(
      (i) => i.includes("node_modules/zod/") && !/\/zod\/v4\/(core|mini)\//.test(i),
    );
    assert.deepEqual(
      notMini,
      [],
      "only zod/mini and zod's core belong in the client (classic zod is ~450 KB)",
    );
    // What only the gateway parses (client frames, channel rules, zod's object JIT) stays out.
    assert.doesNotMatch(code, /ZodMiniObjectJIT|channel must not be empty/);
    assert.ok(
      raw <= RAW_BUDGET && gzip <= GZIP_BUDGET,
      `bundle is ${raw} B minified, ${gzip} B gzipped; budget ${RAW_BUDGET} / ${GZIP_BUDGET}. ` +
        "A schema only the gateway parses must be built inside pure() in protocol/client-frames.ts.",
    );
  });

  it(`with the SSE fallback module: within ${SSE_RAW_BUDGET} B minified and ${SSE_GZIP_BUDGET} B gzipped`, async () => {
    const core = await browserBundle();
    const { code, inputs } = await browserBundle(true);
    const raw = Buffer.byteLength(code);
    const gzip = gzipSync(code).length;
    assert.ok(
      inputs.some((i) => i.endsWith("client/src/sse-socket.ts")),
      "the fallback is in this bundle",
    );
    assert.ok(
      !core.inputs.some((i) => /sse-(socket|parser)\.ts$/.test(i)),
      "the core bundle does not carry the fallback",
    );
    assert.ok(
      raw <= SSE_RAW_BUDGET && gzip <= SSE_GZIP_BUDGET,
      `bundle with SSE is ${raw} B minified, ${gzip} B gzipped; budget ${SSE_RAW_BUDGET} / ${SSE_GZIP_BUDGET}`,
    );
  });

  it("the minified bundle still validates server frames: malformed ones are reported and skipped", async () => {
    const { code } = await browserBundle();
    const sdk = (await import(
      `data:text/javascript;base64,${Buffer.from(code).toString("base64")}`
    )) as typeof Sdk;
    FakeSocket.made = [];
    const client = sdk.connect("ws://gateway.invalid/ws", { WebSocket: FakeSocket, pingIntervalMs: 0 });
    const errors: string[] = [];
    client.on("error", (e) => errors.push(e.code));
    try {
      const got: unknown[] = [];
      const sub = client.subscribe("c:1", (data) => got.push(data));
      await until("socket", () => FakeSocket.made.length === 1);
      const socket = FakeSocket.made[0] as FakeSocket;
      socket.open();
      await until("subscribe frame", () => socket.sent.some((f) => f.type === "subscribe"));
      const subscribe = socket.sent.find((f) => f.type === "subscribe");
      socket.deliver({ type: "ack", id: subscribe?.id, offset: 0 });
      await sub.ready;

      socket.deliver({ type: "message", channel: "c:1", offset: -1, data: "negative offset" });
      socket.deliver({ type: "message", channel: "c:1", offset: 1 }); // no data
      socket.deliver({ type: "message", channel: "c:1", offset: 1.5, data: "fractional offset" });
      socket.deliver({ type: "ack", id: "1" });
      socket.deliver({ type: "martian" });
      socket.deliver([{ type: "message", channel: "c:1", offset: 1, data: "ok" }, { type: "pong" }]);
      socket.deliver({ type: "message", channel: "c:1", offset: 1, data: { n: 1 } });
      await until("the valid message", () => got.length === 1);
      assert.deepEqual(got, [{ n: 1 }]);
      assert.deepEqual(errors, Array(6).fill("protocol"));
    } finally {
      client.close();
    }
  });
});
