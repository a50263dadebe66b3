// The real gateway server in this process over a broker the test hands in (a slow, gated or scripted one), so a
// test can drive the hub's broker events (deliver, resync) itself at the moments it wants.
import assert from "node:assert/strict";
import pino from "pino";
import { freePort } from "../../test-support/ports.js";
import { createAuthenticator } from "../src/auth.js";
import type { Broker } from "../src/broker/broker.js";
import { parseConfig } from "../src/config.js";
import { createGatewayServer } from "../src/server.js";

export async function inProcessGateway(broker: Broker, env: Record<string, string> = {}) {
  const parsed = parseConfig({
    RTGW_HOST: "127.0.0.1",
    RTGW_PORT: String(await freePort()),
    RTGW_METRICS_PORT: String(await freePort()),
    RTGW_HISTORY_SIZE: "10000",
    RTGW_LOG_LEVEL: "silent",
    ...env,
  });
  assert.ok(parsed.ok);
  const config = parsed.config;
  const server = createGatewayServer({
    config,
    broker,
    auth: createAuthenticator(config),
    logger: pino({ level: "silent" }),
    maxConnections: 1000,
    onDrained: () => {},
  });
  await broker.start({
    message: (b) => server.hub.deliver(b),
    presence: (e) => server.hub.presence(e),
    resync: (c, p) => server.hub.resync(c, p),
    health: () => {},
  });
  await server.listen();
  return {
    server,
    broker,
    url: `ws://127.0.0.1:${config.port}/ws`,
    async stop() {
      await server.close();
      await broker.close();
    },
  };
}
