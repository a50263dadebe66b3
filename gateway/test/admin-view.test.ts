// The live admin view against a real gateway: in headless Chromium (key typed in, a node and the charts live,
// publish and see it in the channel view, disconnect a user), and its boundary over HTTP (the key required,
// internal port only).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import type { Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../../test-support/chromium.js";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { startRedis } from "../../test-support/redis.js";
import { until } from "../../test-support/wait.js";
import { connect } from "./client.js";

const KEY = "admin-view-key-for-tests";
const SECRET = "hs256-secret-for-tests-only-0123456789";
const NODE = "admin-view-node";
const env = { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: SECRET, RTGW_ADMIN_KEY: KEY, RTGW_NODE_ID: NODE };

const tokenFor = (sub: string) =>
  new SignJWT({ sub, channels: { subscribe: ["room:*"], publish: [] } })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(SECRET));

const adminUrl = (gw: GatewayProcess, path: string) => `http://127.0.0.1:${gw.metricsPort}${path}`;

/** Wait for `fn` to be true in the page; on timeout, say what the page showed. */
type Arg = string | number;
async function waitInPage(page: Page, what: string, fn: (arg: Arg) => boolean, arg: Arg, timeout = 10_000) {
  await page.waitForFunction(fn, arg, { timeout }).catch(async (error: unknown) => {
    const shown = `${await page.textContent("#login-error")} | ${await page.textContent("main")}`;
    throw new Error(`${what}; the page showed: ${shown?.replace(/\s+/g, " ").slice(0, 2000)}`, {
      cause: error,
    });
  });
}

/** A chart's state as the page's script leaves it on the SVG element. */
const chartIn = (page: Page, name: string) =>
  page.evaluate((n) => {
    const svg = document.getElementById(`chart-${n}`);
    return { points: Number(svg?.dataset.points ?? 0), max: Number(svg?.dataset.max || 0) };
  }, name);

describe("the admin view in headless Chromium", { timeout: 120_000 }, () => {
  it("opens with the key, shows the node and live charts, publishes, looks up and disconnects", async () => {
    assert.ok(existsSync(CHROMIUM), "chromium is installed by scripts/setup.sh test");
    const gw = await startGateway({ env });
    const alice = await connect(gw.wsUrl, {
      headers: { authorization: `Bearer ${await tokenFor("alice")}` },
    });
    const bob = await connect(gw.wsUrl, { headers: { authorization: `Bearer ${await tokenFor("bob")}` } });
    const browser = await launchChromium();
    try {
      assert.equal(
        (await alice.request({ type: "subscribe", channel: "room:1", presence: true })).type,
        "ack",
      );
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(adminUrl(gw, "/admin/"));

      // A wrong key is refused and the dashboard stays hidden.
      await page.fill("#key", "not-the-key-not-the-key");
      await page.click("#login button");
      await waitInPage(page, "a refusal", () => !!document.getElementById("login-error")?.textContent, "");
      assert.ok(await page.isHidden("#dashboard"));

      await page.fill("#key", KEY);
      await page.click("#login button");
      await waitInPage(
        page,
        "the node in the fleet table with its 2 connections",
        (node) => {
          const row = document.querySelector(`#nodes tr[data-node="${node}"]`);
          return row?.children[1]?.textContent === "2";
        },
        NODE,
      );
      await waitInPage(
        page,
        "a point of 2 on the connections chart",
        () => document.getElementById("chart-connections")?.dataset.last === "2",
        "",
      );
      const beforePublish = await chartIn(page, "published");
      assert.equal(beforePublish.max, 0, "nothing published yet");

      // Publish from the page: alice gets it, the channel view shows it, the charts get a point with it.
      await page.fill("#channel", "room:1");
      await page.click("#lookup button");
      await waitInPage(
        page,
        "1 subscriber",
        () => document.getElementById("ch-subscribers")?.textContent === "1",
        "",
      );
      await waitInPage(
        page,
        "alice in presence",
        () => document.getElementById("ch-presence")?.textContent?.includes("alice") ?? false,
        "",
      );
      await page.fill("#pub-data", '{"text":"from the admin view"}');
      await page.click("#publish button");
      const message = await alice.next((f) => f.type === "message" && f.channel === "room:1");
      assert.deepEqual(message.type === "message" && message.data, { text: "from the admin view" });
      await waitInPage(
        page,
        "the message in the channel's history",
        () =>
          document.getElementById("ch-history")?.textContent?.includes('{"text":"from the admin view"}') ??
          false,
        "",
      );
      await waitInPage(
        page,
        "a point with the publish on the messages/s chart",
        (b) => {
          const svg = document.getElementById("chart-published");
          return Number(svg?.dataset.points) > Number(b) && Number(svg?.dataset.max) > 0;
        },
        beforePublish.points,
        5000,
      );
      await waitInPage(
        page,
        "a p99 point for the delivery to alice",
        () => Number(document.getElementById("chart-p99")?.dataset.max) > 0,
        "",
        5000,
      );

      // Disconnect bob from the page: his socket is closed (4002), alice's is not.
      await page.fill("#user", "bob");
      await page.click("#disconnect button");
      const closed = await Promise.race([
        bob.closed,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000)),
      ]);
      assert.equal(closed?.code, 4002);
      await waitInPage(
        page,
        "the disconnect answer",
        () => document.getElementById("disc-result")?.textContent === "disconnect sent to 1 node(s)",
        "",
      );
      assert.equal(alice.ws.readyState, alice.ws.OPEN);
      assert.deepEqual(errors, [], "no script error in the page");
    } finally {
      alice.close();
      bob.close();
      await browser.close();
      await gw.stop();
    }
  });
});

describe("the admin view's boundary", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  let keyless: GatewayProcess;
  before(async () => {
    [gw, keyless] = await Promise.all([startGateway({ env }), startGateway()]);
  });
  describe("the admin view over a fleet on Redis", { timeout: 60_000 }, () => {
    it("shows every node and its channels, and disconnects a user connected to another node", async () => {
      const redis = await startRedis();
      const fleet = { ...env, RTGW_BROKER: "redis", RTGW_REDIS_URL: redis.url, RTGW_NODE_TTL_SECONDS: "3" };
      const [a, b] = await Promise.all([
        startGateway({ env: { ...fleet, RTGW_NODE_ID: "fleet-a" } }),
        startGateway({ env: { ...fleet, RTGW_NODE_ID: "fleet-b" } }),
      ]);
      const carol = await connect(b.wsUrl, {
        headers: { authorization: `Bearer ${await tokenFor("carol")}` },
      });
      try {
        assert.equal((await carol.request({ type: "subscribe", channel: "room:9" })).type, "ack");
        const call = async (name: string, body: unknown) => {
          const res = await fetch(adminUrl(a, `/admin/api/${name}`), {
            method: "POST",
            headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          assert.equal(res.status, 200, name);
          return res.json() as Promise<Record<string, unknown>>;
        };
        // b's heartbeat (every third of the TTL) carries its subscription to the registry a reads.
        await until("node a's view lists node b with room:9", async () => {
          const info = (await call("info", {})) as { nodes: { node: string }[] };
          const channels = (await call("channels", { pattern: "room:*" })) as { channels: unknown[] };
          return (
            info.nodes.map((n) => n.node).join() === "fleet-a,fleet-b" &&
            JSON.stringify(channels.channels) === JSON.stringify([{ channel: "room:9", subscribers: 1 }])
          );
        });
        assert.deepEqual(await call("disconnect", { user: "carol" }), { nodes: 2 });
        assert.equal((await carol.closed).code, 4002, "closed on node b by node a's order");
      } finally {
        carol.close();
        await Promise.all([a.stop(), b.stop()]);
        await redis.stop();
      }
    });
  });

  after(stopAllGateways);

  const api = ["info", "channels", "history", "presence", "publish", "disconnect", "live"];
  const bodies: Record<string, unknown> = {
    history: { channel: "room:1" },
    presence: { channel: "room:1" },
    publish: { channel: "room:1", data: { x: 1 } },
    disconnect: { user: "alice" },
  };
  const post = (url: string, name: string, authorization?: string) =>
    fetch(url, {
      method: "POST",
      headers: authorization ? { authorization, "content-type": "application/json" } : {},
      body: JSON.stringify(bodies[name] ?? {}),
    });

  it("answers every call with the key, and refuses it without (401), with a wrong one (401) or none set (403)", async () => {
    for (const name of api) {
      const url = adminUrl(gw, `/admin/api/${name}`);
      assert.equal((await post(url, name, `Bearer ${KEY}`)).status, 200, `${name} with the key`);
      assert.equal((await post(url, name)).status, 401, `${name} without a key`);
      assert.equal(
        (await post(url, name, "Bearer wrong-key-wrong-key-wrong")).status,
        401,
        `${name} wrong key`,
      );
      assert.equal((await post(url, name, KEY)).status, 401, `${name} not as a bearer`);
      const off = await post(adminUrl(keyless, `/admin/api/${name}`), name, `Bearer ${KEY}`);
      assert.equal(off.status, 403, `${name} with no key configured`);
    }
  });

  it("does not change state on a GET (405) and serves the page with a CSP that admits only its own script", async () => {
    const get = await fetch(adminUrl(gw, "/admin/api/publish"), {
      headers: { authorization: `Bearer ${KEY}` },
    });
    assert.equal(get.status, 405);
    const page = await fetch(adminUrl(gw, "/admin/"));
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(await page.text(), new RegExp(KEY));
  });

  it("is not served on the client port (404)", async () => {
    assert.equal((await fetch(`${gw.url}/admin/`)).status, 404);
    for (const name of api)
      assert.equal((await post(`${gw.url}/admin/api/${name}`, name, `Bearer ${KEY}`)).status, 404, name);
  });
});

after(stopAllGateways);
