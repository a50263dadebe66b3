// The SDK in a browser: bundled by esbuild for the browser platform (no Node-only import may sneak in), then
// loaded as an ES module into headless Chromium, where it uses the page's own WebSocket against a real gateway.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { builtinModules } from "node:module";
import { dirname, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { WebSocket } from "ws";
import { launchChromium } from "../../test-support/chromium.js";
import { type GatewayProcess, startGateway } from "../../test-support/gateway.js";
import { connect } from "../src/index.js";
import { until } from "./helpers.js";

const ENTRY = resolve(dirname(fileURLToPath(import.meta.url)), "../src/index.ts");
const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

async function bundleForBrowser(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    metafile: true,
    minify: true,
    logLevel: "silent",
  });
  const output = result.outputFiles[0];
  assert.ok(output, "esbuild produced a bundle");
  return { code: output.text, inputs: Object.keys(result.metafile.inputs) };
}

describe("client in the browser", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  let browser: Browser | undefined;
  let pageServer: Server | undefined;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await browser?.close();
    pageServer?.close();
    await gw?.stop();
  });

  it("bundles for the browser platform with no Node-only imports", async () => {
    const { code, inputs } = await bundleForBrowser();
    const nodeOnly = inputs.filter((i) => NODE_BUILTINS.has(i) || i.startsWith("node:"));
    assert.deepEqual(nodeOnly, []);
    assert.ok(
      inputs.some((i) => i.endsWith("protocol/server-frames.ts")),
      "the shared protocol module is bundled",
    );
    assert.ok(
      !inputs.some((i) => i.includes("node_modules/ws/")),
      "ws is only ever injected, never imported",
    );
    assert.doesNotMatch(code, /\brequire\(/);
    assert.doesNotMatch(code, /from\s*"node:/);
  });

  it("runs in headless Chromium on the page's WebSocket: subscribe, publish, receive in order", async () => {
    const { code } = await bundleForBrowser();
    browser = await launchChromium();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // A real loopback HTTP server: Chromium lets a loopback page reach loopback sockets (Local Network Access),
    // which a page fulfilled by page.route() is not.
    pageServer = createServer((req, res) => {
      if (req.url === "/rtgw-client.js")
        return res.writeHead(200, { "content-type": "text/javascript" }).end(code);
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(
          `<!doctype html><script type="module">import * as rtgw from "/rtgw-client.js"; window.rtgw = rtgw;</script>`,
        );
    });
    const server = pageServer;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const address = server.address();
    const pageUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
    // tsx compiles this file with keepNames, which wraps the functions passed to page.evaluate in __name().
    await page.addInitScript("window.__name = (fn) => fn");
    await page.goto(pageUrl);
    await page.waitForFunction(() => "rtgw" in window, undefined, { timeout: 10_000 });

    // The browser subscribes; a Node client publishes into the same channel midway.
    const inPage = page.evaluate(
      async ({ wsUrl }) => {
        type Sdk = typeof import("../src/index.js");
        const sdk = (window as unknown as { rtgw: Sdk }).rtgw;
        const client = sdk.connect(wsUrl);
        const states: string[] = [];
        client.on("state", (s) => states.push(s.state));
        const got: Array<{ offset: number; data: unknown }> = [];
        let done: () => void = () => {};
        const allIn = new Promise<void>((r) => {
          done = r;
        });
        await client.subscribe("browser:chat", (data, meta) => {
          got.push({ offset: meta.offset, data });
          if (got.length === 6) done();
        }).ready;
        const acks: number[] = [];
        for (let i = 1; i <= 5; i++)
          acks.push((await client.publish("browser:chat", { from: "page", i })).offset);
        (window as unknown as { published: boolean }).published = true;
        await Promise.race([allIn, new Promise((r) => setTimeout(r, 10_000))]);
        const info = { connectionId: client.connectionId, userAgent: navigator.userAgent };
        client.close();
        return { states, got, acks, info };
      },
      { wsUrl: gw.wsUrl },
    );
    inPage.catch(() => {}); // awaited below; a failure must not surface early as an unhandled rejection
    await page.waitForFunction(
      () => (window as unknown as { published?: boolean }).published === true,
      undefined,
      {
        timeout: 10_000,
      },
    );
    const node = connect(gw.wsUrl, { WebSocket });
    try {
      await node.publish("browser:chat", { from: "node" });
    } finally {
      node.close();
    }
    const result = await inPage;

    assert.deepEqual(pageErrors, []);
    assert.match(result.info.userAgent, /Chrome/);
    assert.deepEqual(result.acks, [1, 2, 3, 4, 5]);
    assert.deepEqual(
      result.got.map((g) => g.offset),
      [1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(result.got[5]?.data, { from: "node" });
    assert.deepEqual(result.states, ["connected", "closed"]);
    let connections = -1;
    await until("the gateway to see every client leave", () => {
      void fetch(`${gw.url}/api/stats`)
        .then((r) => r.json() as Promise<{ connections: number }>)
        .then((stats) => {
          connections = stats.connections;
        });
      return connections === 0;
    });
  });
});
