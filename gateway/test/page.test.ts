// The page at `/` in headless Chromium: connect, subscribe, publish, see the message and the count.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, describe, it } from "node:test";
import { CHROMIUM, launchChromium } from "../../test-support/chromium.js";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";

describe("the page at /", { timeout: 90_000 }, () => {
  it("connects, subscribes, publishes and shows the message and the connection count", async () => {
    assert.ok(existsSync(CHROMIUM), "chromium is installed by scripts/setup.sh test");
    const gw = await startGateway();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${gw.url}/`);
      await page.click("#connect");
      await page.waitForSelector("#state:text('connected')", { timeout: 10_000 });
      await page.fill("#sub-channel", "browser:demo");
      await page.click("#subscribe");
      await page.waitForSelector('#log :text(\'"type":"ack"\')', { timeout: 10_000 });
      await page.fill("#pub-channel", "browser:demo");
      await page.fill("#pub-data", '{"text":"hello from chromium"}');
      await page.click("#publish");
      // Wait for the message frame itself: the publish frame the page logs first carries the same text.
      const message =
        '"type":"message","channel":"browser:demo","offset":1,"data":{"text":"hello from chromium"}';
      await page
        .waitForFunction((m) => document.getElementById("log")?.textContent?.includes(m), message, {
          timeout: 10_000,
        })
        .catch(async (error: unknown) => {
          throw new Error(`no message frame in the log: ${await page.textContent("#log")}`, { cause: error });
        });
      // The stats poll shows this browser's connection.
      await page.waitForFunction(
        () => document.getElementById("connections")?.textContent === "1",
        undefined,
        {
          timeout: 5000,
        },
      );
    } finally {
      await browser.close();
      await gw.stop();
    }
  });
});

after(stopAllGateways);
