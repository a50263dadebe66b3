// The one TCP balancer (dev-cluster/tcp-balancer.ts), in both of its uses: endpoints from a function (the dev
// cluster's Service proxies: round robin over what the function returns now, a refused endpoint skipped, none:
// refused) and readiness following (test-support/tcp-balancer.ts: a backend whose /readyz turns 503 gets no more).
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { type Endpoint, pickEndpoint, startTcpBalancer } from "../../../dev-cluster/tcp-balancer.js";
import { freePort } from "../../../test-support/ports.js";
import { startTcpBalancer as startReadyBalancer } from "../../../test-support/tcp-balancer.js";
import { sleep } from "../../../test-support/wait.js";

const servers: Server[] = [];
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

/** An HTTP backend answering its name; /readyz answers 200 while `ready.value`. */
async function backend(name: string, ready = { value: true }): Promise<number> {
  const s = createServer((req, res) => {
    if (req.url === "/readyz") res.writeHead(ready.value ? 200 : 503).end();
    else res.writeHead(200, { connection: "close" }).end(name);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as AddressInfo).port;
}

const get = (url: string) =>
  fetch(url, { headers: { connection: "close" }, signal: AbortSignal.timeout(2000) }).then((r) => r.text());

test("pickEndpoint: round robin, none without endpoints", () => {
  const eps: Endpoint[] = [
    { ip: "a", port: 1 },
    { ip: "b", port: 2 },
  ];
  assert.deepEqual(
    [0, 1, 2, 3].map((n) => pickEndpoint(eps, n)?.ip),
    ["a", "b", "a", "b"],
  );
  assert.equal(pickEndpoint([], 5), undefined);
});

describe("endpoints from a function (a Service's proxy)", () => {
  test("round robin over the endpoints now; a refused one skipped; none: the connection is refused", async () => {
    const a = await backend("a");
    const b = await backend("b");
    let endpoints: Endpoint[] = [
      { ip: "127.0.0.1", port: a },
      { ip: "127.0.0.1", port: b },
    ];
    const lb = await startTcpBalancer({ endpoints: () => endpoints });
    try {
      const got = [];
      for (let i = 0; i < 4; i++) got.push(await get(lb.url));
      assert.deepEqual(got.sort(), ["a", "a", "b", "b"]);

      endpoints = [{ ip: "127.0.0.1", port: b }];
      assert.deepEqual([await get(lb.url), await get(lb.url)], ["b", "b"], "follows the function");

      endpoints = [
        { ip: "127.0.0.1", port: await freePort() },
        { ip: "127.0.0.1", port: a },
      ];
      for (let i = 0; i < 3; i++) assert.equal(await get(lb.url), "a", "the refused endpoint is skipped");

      endpoints = [];
      await assert.rejects(get(lb.url), "no endpoints: refused");
    } finally {
      await lb.close();
    }
  });
});

describe("readiness following (test-support)", () => {
  test("a backend whose /readyz answers 503 gets no new connections, and gets them again when ready", async () => {
    const bReady = { value: true };
    const a = await backend("a");
    const b = await backend("b", bReady);
    const lb = await startReadyBalancer([a, b], { readyPath: "/readyz" });
    try {
      const before = [];
      for (let i = 0; i < 4; i++) before.push(await get(lb.url));
      assert.ok(before.includes("b"), "b is used while ready");
      bReady.value = false;
      await sleep(400);
      for (let i = 0; i < 6; i++) assert.equal(await get(lb.url), "a", "b is draining");
      bReady.value = true;
      await sleep(400);
      const again = [];
      for (let i = 0; i < 4; i++) again.push(await get(lb.url));
      assert.ok(again.includes("b"), "b is back");
    } finally {
      await lb.close();
    }
  });
});
