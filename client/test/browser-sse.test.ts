// The SDK's SSE fallback in headless Chromium, cross-origin as a real app would be: the page (one loopback port)
// reads a gateway (another port) that names the page's origin in RTGW_ALLOWED_ORIGINS and wants a JWT. The
// browser's fetch must pass the CORS preflight (Authorization, Last-Event-ID), read the stream as it comes, and
// the reachability probe must count an opaque answer.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { dirname, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { SignJWT } from "jose";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../test-support/chromium.js";
import { type GatewayProcess, startGateway } from "../../test-support/gateway.js";
import { httpPublish } from "./helpers.js";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
const SECRET = "b".repeat(40);
const API_KEY = "browser-sse-key-0123456789";

async function bundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `export * from "./index.ts"; export * from "./sse.ts";`,
      resolveDir: SRC,
      loader: "ts",
    },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    minify: true,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

describe("client SSE fallback in the browser", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  let browser: Browser | undefined;
  let pageServer: Server;
  let pageUrl = "";
  before(async () => {
    const code = await bundle();
    pageServer = createServer((req, res) => {
      if (req.url === "/rtgw-client.js")
        return res.writeHead(200, { "content-type": "text/javascript" }).end(code);
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(
          `<!doctype html><script type="module">import * as rtgw from "/rtgw-client.js"; window.rtgw = rtgw;</script>`,
        );
    });
    await new Promise<void>((r) => pageServer.listen(0, "127.0.0.1", r));
    const address = pageServer.address();
    pageUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    gw = await startGateway({
      env: {
        RTGW_AUTH: "jwt",
        RTGW_JWT_SECRET: SECRET,
        RTGW_API_KEY: API_KEY,
        RTGW_ALLOWED_ORIGINS: pageUrl,
      },
    });
  });
  after(async () => {
    await browser?.close();
    pageServer?.close();
    await gw?.stop();
  });

  it("receives over SSE cross-origin with the token in a header; state events say sse", async () => {
    const token = await new SignJWT({
      exp: Math.floor(Date.now() / 1000) + 600,
      channels: { subscribe: ["page:*"] },
    })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(SECRET));
    browser = await launchChromium();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.addInitScript("window.__name = (fn) => fn");
    await page.goto(`${pageUrl}/`);
    await page.waitForFunction(() => "rtgw" in window, undefined, { timeout: 10_000 });
    const inPage = page.evaluate(
      async ({ wsUrl, token }) => {
        type Sdk = typeof import("../src/index.js") & typeof import("../src/sse.js");
        const sdk = (window as unknown as { rtgw: Sdk }).rtgw;
        const client = sdk.connect(wsUrl, {
          token,
          transports: ["sse"],
          SSE: sdk.SseSocket,
          pingIntervalMs: 0,
        });
        const states: string[] = [];
        client.on("state", (s) => states.push(`${s.state}/${s.transport}`));
        const got: unknown[] = [];
        await client.subscribe("page:1", (data) => got.push(data)).ready;
        (window as unknown as { subscribed: boolean }).subscribed = true;
        const deadline = Date.now() + 10_000;
        while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const publish = await client.publish("page:1", 1).then(
          () => "published",
          (e: { code: string }) => e.code,
        );
        client.close();
        return { states, got, publish, transport: client.transport };
      },
      { wsUrl: gw.wsUrl, token },
    );
    inPage.catch(() => {});
    await page.waitForFunction(
      () => (window as unknown as { subscribed?: boolean }).subscribed === true,
      undefined,
      {
        timeout: 10_000,
      },
    );
    for (let i = 1; i <= 3; i++) await httpPublish(gw.url, API_KEY, "page:1", { i });
    const result = await inPage;
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(result.got, [{ i: 1 }, { i: 2 }, { i: 3 }]);
    assert.deepEqual(result.states, ["connected/sse", "closed/sse"]);
    assert.equal(result.publish, "transport");
    assert.equal(result.transport, "sse");
  });
});
