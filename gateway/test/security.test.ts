// The hostile-client suite: what someone on the internet, or a backend holding only the publish key, tries.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";

const API_KEY = "security-publish-key-0123";
const ADMIN_KEY = "security-admin-key-0123456789";
const post = (url: string, key: string, body: unknown = {}) =>
  fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("two credentials, two ports", { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({ env: { RTGW_API_KEY: API_KEY, RTGW_ADMIN_KEY: ADMIN_KEY } });
  });

  it("the client port has no /admin/* and no /metrics, even with the admin key", async () => {
    for (const path of ["/admin/drain", "/admin/shed"]) {
      const res = await post(`${gw.url}${path}`, ADMIN_KEY, { count: 1 });
      assert.equal(res.status, 404, path);
    }
    assert.equal((await fetch(`${gw.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200, "still ready: nothing drained");
  });

  it("the publish key does not open /admin/*; the admin key does not publish", async () => {
    for (const path of ["/admin/drain", "/admin/shed"])
      assert.equal((await post(`${gw.adminUrl}${path}`, API_KEY, { count: 1 })).status, 401, path);
    const publish = await post(`${gw.url}/api/publish`, ADMIN_KEY, { channel: "c", data: 1 });
    assert.equal(publish.status, 401);
    assert.equal((await post(`${gw.url}/api/publish`, API_KEY, { channel: "c", data: 1 })).status, 200);
  });

  it("the internal port answers /admin/* to the admin key and nothing else of the client API", async () => {
    const shed = await post(`${gw.adminUrl}/admin/shed`, ADMIN_KEY, { count: 1 });
    assert.equal(shed.status, 200);
    assert.deepEqual(await shed.json(), { shed: 0, connections: 0 });
    assert.equal((await post(`${gw.adminUrl}/admin/shed`, ADMIN_KEY, { count: 0 })).status, 400);
    assert.equal((await post(`${gw.adminUrl}/api/publish`, API_KEY, { channel: "c", data: 1 })).status, 404);
    assert.equal((await fetch(gw.metricsUrl)).status, 200);
  });
});

after(stopAllGateways);
