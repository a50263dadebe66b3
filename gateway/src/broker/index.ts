// Picks the broker the config asks for. The Redis one is loaded lazily so `memory` never touches ioredis.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "../config.js";
import type { Broker } from "./broker.js";
import { createMemoryBroker } from "./memory.js";

export interface BrokerDeps {
  logger: Logger;
  registry: Registry;
}

export async function createBroker(config: GatewayConfig, deps: BrokerDeps): Promise<Broker> {
  // Each channel's namespace decides its history and whether its presence is announced; a channel the namespaces refuse never reaches the broker.
  const history = {
    historySize: config.historySize,
    historyTtlSeconds: config.historyTtlSeconds,
    historyOf: (channel: string) => {
      const found = config.namespaces.of(channel);
      return found.ok ? found.namespace : config;
    },
    // joinLeave off: no join/leave is published at all (presence lists still work).
    joinLeaveOf: (channel: string) => {
      const found = config.namespaces.of(channel);
      return !found.ok || found.namespace.joinLeave;
    },
  };
  if (config.broker === "memory") return createMemoryBroker(history);
  const { createRedisBroker } = await import("./redis/index.js");
  return createRedisBroker({
    url: config.redisUrl as string,
    cluster: config.redisCluster,
    nodeId: config.nodeId,
    ...history,
    logger: deps.logger,
    registry: deps.registry,
  });
}
