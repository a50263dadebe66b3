// Gateway configuration: the RTGW_* environment variables, one line each below (name, rule, default), checked
// by the rules every `rtgw` setting shares (config/rules.ts). The variable's name is its field's too
// (RTGW_METRICS_PORT → config.metricsPort). A bad value is one sentence naming the variable; main exits 2.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";
import { type Fields, type Parsed, parseEnv, unknownVariables } from "../../config/parse.js";
import { boolean, choice, integer, number, port, seconds, text } from "../../config/rules.js";

export const PREFIX = "RTGW_";

/** Every variable the gateway reads. Add one here and it is parsed, typed (GatewayConfig) and documented in errors. */
export const gatewaySettings = z
  .object({
    RTGW_PORT: port().default(8080),
    RTGW_HOST: text("a bind address such as 0.0.0.0 or 127.0.0.1").default("0.0.0.0"),
    RTGW_METRICS_PORT: port().default(9090),
    RTGW_NODE_ID: text("1-128 of letters, digits, _ . : -", /^[A-Za-z0-9_.:-]{1,128}$/).optional(),
    RTGW_LOG_LEVEL: choice(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    RTGW_BROKER: choice(["memory", "redis"]).default("memory"),
    RTGW_REDIS_URL: text(
      "a redis:// or rediss:// URL (with RTGW_REDIS_CLUSTER: a comma-separated list of them), or redis+sentinel://s1:p1,s2:p2/<master name>",
      /^rediss?(\+sentinel)?:\/\/\S+$/,
    ).optional(),
    RTGW_REDIS_CLUSTER: boolean().default(false),
    RTGW_AUTH: choice(["none", "jwt"]).default("none"),
    RTGW_JWT_SECRET: text("a non-empty HS256 secret", /\S/, { secret: true }).optional(),
    RTGW_JWT_PUBLIC_KEY: text(
      "a PEM public key (-----BEGIN PUBLIC KEY-----) for RS256 or ES256",
      /-----BEGIN PUBLIC KEY-----/,
    ).optional(),
    RTGW_API_KEY: text("a bearer key of at least 8 characters", /^.{8,}$/s, { secret: true }).optional(),
    RTGW_MAX_CONNECTIONS: integer(1).default(100_000),
    RTGW_MAX_MESSAGE_BYTES: integer(256, 16 * 1024 * 1024, "bytes").default(65_536),
    RTGW_MAX_SUBSCRIPTIONS: integer(1).default(100), // per connection
    RTGW_DRAIN_SECONDS: seconds({ min: 0, max: 3600 }).default(30),
    RTGW_COMPRESSION: choice(["off", "shared", "dedicated"]).default("off"),
    RTGW_HISTORY_SIZE: integer(0, 1_000_000).default(100),
    RTGW_HISTORY_TTL_SECONDS: integer(1, undefined, "seconds").default(300),
    // uWS sends pings automatically before it.
    RTGW_IDLE_TIMEOUT_SECONDS: integer(8, 960, "seconds").default(60),
    // A socket whose send buffer passes it is closed.
    RTGW_MAX_BACKPRESSURE_BYTES: integer(1024, undefined, "bytes").default(1024 * 1024),
    RTGW_PUBLISH_RATE: number({ min: 0, above: true }).default(50), // publishes per second per connection
    RTGW_PUBLISH_BURST: integer(1).default(100), // token bucket size
    // The node registry (server API `info`, `channels`): a heartbeat every third of it; a node silent this long is gone.
    RTGW_NODE_TTL_SECONDS: integer(2, 3600, "seconds").default(15),
    RTGW_RATE_LIMIT_STRIKES: integer(1).default(20), // rate_limited errors in a row before close 1008
  })
  .superRefine((c, ctx) => {
    if (c.RTGW_BROKER === "redis" && !c.RTGW_REDIS_URL)
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_REDIS_URL"],
        message: "is required when RTGW_BROKER=redis (a redis:// or rediss:// URL)",
      });
    if (c.RTGW_AUTH === "jwt" && !c.RTGW_JWT_SECRET && !c.RTGW_JWT_PUBLIC_KEY)
      ctx.addIssue({
        code: "custom",
        message: "RTGW_AUTH=jwt needs RTGW_JWT_SECRET (HS256) or RTGW_JWT_PUBLIC_KEY (RS256/ES256 PEM)",
      });
  });

/** The parsed variables by field name; the node id always set (default: host name and a random suffix). */
export type GatewayConfig = Omit<Fields<z.output<typeof gatewaySettings>, typeof PREFIX>, "nodeId"> & {
  nodeId: string;
};

export type ConfigResult =
  | {
      ok: true;
      config: GatewayConfig;
      /** RTGW_* variables set but not the gateway's (a typo?): main warns about each. */
      unknown: string[];
    }
  | { ok: false; errors: string[] };

/** Parse the environment. Pure: the caller decides how to report errors. */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const parsed: Parsed<Fields<z.output<typeof gatewaySettings>, typeof PREFIX>> = parseEnv(
    gatewaySettings,
    PREFIX,
    env,
  );
  if (!parsed.ok) return parsed;
  const nodeId = parsed.value.nodeId ?? `${hostname()}-${randomBytes(3).toString("hex")}`;
  return {
    ok: true,
    config: { ...parsed.value, nodeId },
    unknown: unknownVariables(gatewaySettings, PREFIX, env),
  };
}
