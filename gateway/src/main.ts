// The gateway process: config → broker → server → signals; nothing else.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { orExit } from "../../config/parse.js";
import { createAuthenticator } from "./auth.js";
import { createBroker } from "./broker/index.js";
import { parseConfig } from "./config.js";
import { effectiveMaxConnections, readOpenFileLimit } from "./limits.js";
import * as metrics from "./metrics.js";
import { uwsIsNative } from "./native.js";
import { createGatewayServer } from "./server.js";

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const parsed = parseConfig(env);
  if (!parsed.ok)
    return orExit("rtgw gateway", parsed, "the README's gateway configuration lists every RTGW_* variable");
  const config = parsed.config;
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  for (const variable of parsed.unknown)
    logger.warn({ variable }, "not a gateway variable (a typo?): ignored");
  if (!uwsIsNative()) {
    logger.fatal(
      "uWebSockets.js fell back to its JS shim (native binary not loaded for this Node/platform); refusing to run",
    );
    process.exit(3);
  }
  const openFiles = readOpenFileLimit();
  const maxConnections = effectiveMaxConnections(config.maxConnections, openFiles);
  if (maxConnections < config.maxConnections)
    logger.info(
      { configured: config.maxConnections, openFiles, maxConnections },
      "RTGW_MAX_CONNECTIONS capped by the open-file limit",
    );

  for (const [name, file] of config.tls
    ? [
        ["RTGW_TLS_CERT_FILE", config.tls.certFile],
        ["RTGW_TLS_KEY_FILE", config.tls.keyFile],
      ]
    : []) {
    // uWS would fail later with no reason given: say which file cannot be read.
    try {
      readFileSync(file as string);
    } catch (err) {
      process.stderr.write(
        `rtgw gateway: ${name}=${JSON.stringify(file)} cannot be read: ${(err as Error).message}\n`,
      );
      process.exit(2);
    }
  }

  let auth: ReturnType<typeof createAuthenticator>;
  try {
    auth = createAuthenticator(config);
  } catch (err) {
    // The PEM passed the schema's shape check but is not a usable RSA or EC public key.
    process.stderr.write(
      `rtgw gateway: RTGW_JWT_PUBLIC_KEY must be a PEM RSA or EC public key (got one that does not load: ${(err as Error).message})\n`,
    );
    process.exit(2);
  }

  let stopping = false;
  const exit = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await broker.close().catch(() => {});
    logger.info({ code }, "gateway stopped");
    process.exit(code);
  };
  const broker = await createBroker(config, { logger, registry: metrics.registry });
  const server = createGatewayServer({
    config,
    broker,
    auth,
    logger,
    maxConnections,
    // A drain (SIGTERM or POST /admin/drain) ends the process once no connection is left or the window ended.
    onDrained: () => void exit(0),
  });
  await broker.start({
    message: (batch) => server.hub.deliver(batch),
    presence: (event) => server.hub.presence(event),
    resync: (channel, position) => server.hub.resync(channel, position),
    control: (message) => server.control(message),
    health: (healthy) => {
      metrics.brokerConnected.set(healthy ? 1 : 0);
      logger.info({ healthy }, "broker health");
    },
  });
  const { port, metricsPort } = await server.listen().catch((err: Error) => {
    logger.fatal({ err: err.message }, "cannot listen (port in use or address not available?)");
    return process.exit(1);
  });
  logger.info(
    { port, metricsPort, host: config.host, broker: broker.kind, maxConnections },
    "gateway listening",
  );

  process.once("SIGTERM", () => void server.drain());
  process.once("SIGINT", () => void exit(0));
}

// Run directly (`node --import tsx gateway/src/main.ts`) as well as through `rtgw gateway`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
