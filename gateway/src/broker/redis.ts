// Placeholder until the Redis broker lands (issue 3). The factory's signature is the contract main.ts relies on.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Broker } from "./broker.js";

export interface RedisBrokerOptions {
  /** redis:// or rediss:// (standalone), or a comma-separated list of cluster seeds with RTGW_REDIS_CLUSTER. */
  url: string;
  nodeId: string;
  historySize: number;
  historyTtlSeconds: number;
  logger: Logger;
  /** The gateway's prom-client registry: the broker registers its own metrics here. */
  registry: Registry;
}

export function createRedisBroker(_options: RedisBrokerOptions): Broker {
  throw new Error("the Redis broker is not implemented yet");
}
