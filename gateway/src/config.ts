// Gateway configuration: the RTGW_* environment variables, one line each below (name, rule, default), checked
// by the rules every `rtgw` setting shares (config/rules.ts). The variable's name is its field's too
// (RTGW_METRICS_PORT → config.metricsPort). A bad value is one sentence naming the variable; main exits 2.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";
import { type Fields, type Parsed, parseEnv, unknownVariables } from "../../config/parse.js";
import {
  boolean,
  choice,
  commaList,
  integer,
  number,
  port,
  rule,
  seconds,
  text,
  url,
} from "../../config/rules.js";
import { readConfigFile } from "./namespaces/config-file.js";
import { createNamespaces, type Namespaces } from "./namespaces/namespaces.js";
import type { ConfigFile } from "./namespaces/schema.js";
import type { PresenceField } from "./presence-fields.js";
import type { LimitedOperation } from "./rate-limit.js";

export const PREFIX = "RTGW_";

const ORIGIN = /^https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d+)?$/;
const rate = (per: string, fallback: number) =>
  number({ min: 0, above: true, unit: `${per} per second per connection` }).default(fallback);
const burst = (fallback: number) => integer(1).default(fallback); // the token bucket's size
const jwtSecretRule = rule("an HS256 secret of at least 32 bytes (RFC 7518: at least the hash size)", {
  secret: true,
});

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
    RTGW_JWT_SECRET: z
      .string(jwtSecretRule)
      .refine((v) => Buffer.byteLength(v, "utf8") >= 32, jwtSecretRule)
      .optional(),
    RTGW_JWT_PUBLIC_KEY: text(
      "a PEM public key (-----BEGIN PUBLIC KEY-----) for RS256 or ES256",
      /-----BEGIN PUBLIC KEY-----/,
    ).optional(),
    // Keys fetched, cached and re-fetched on rotation (jose's remote key set).
    RTGW_JWT_JWKS_URL: url(["https:", "http:"], "an http(s) URL of a JSON Web Key Set").optional(),
    RTGW_JWT_ISSUER: text("the required `iss` claim").optional(),
    RTGW_JWT_AUDIENCE: commaList("the required `aud` claim (comma-separated: any of them)", (v) =>
      /\S/.test(v),
    ).optional(),
    RTGW_ALLOWED_ORIGINS: commaList(
      "comma-separated origins such as https://app.example.com or https://*.example.com (scheme, host, optional port)",
      (v) => ORIGIN.test(v),
    ).optional(),
    RTGW_TLS_CERT_FILE: text(
      "a PEM certificate (chain) file: the client port serves https:// and wss://",
    ).optional(),
    RTGW_TLS_KEY_FILE: text("the PEM private key file of RTGW_TLS_CERT_FILE").optional(),
    RTGW_API_KEY: text("a bearer key of at least 8 characters", /^.{8,}$/s, { secret: true }).optional(),
    // /admin/* on RTGW_METRICS_PORT (the internal port).
    RTGW_ADMIN_KEY: text("a bearer key of at least 16 characters", /^.{16,}$/s, { secret: true }).optional(),
    RTGW_MAX_CONNECTIONS: integer(1).default(100_000),
    RTGW_MAX_MESSAGE_BYTES: integer(256, 16 * 1024 * 1024, "bytes").default(65_536),
    RTGW_MAX_SUBSCRIPTIONS: integer(1).default(100), // per connection
    RTGW_DRAIN_SECONDS: seconds({ min: 0, max: 3600 }).default(30),
    RTGW_COMPRESSION: choice(["off", "shared", "dedicated"]).default("off"),
    RTGW_HISTORY_SIZE: integer(0, 1_000_000).default(100),
    RTGW_HISTORY_TTL_SECONDS: integer(1, undefined, "seconds").default(300),
    // uWS sends pings automatically before it.
    RTGW_IDLE_TIMEOUT_SECONDS: integer(8, 960, "seconds").default(60),
    // A comment line on every SSE stream this often, so proxies do not cut an idle one (the SDK takes a stream
    // silent for 45 s as dead).
    RTGW_SSE_HEARTBEAT_SECONDS: integer(1, 30, "seconds").default(15),
    // A socket whose send buffer passes it is closed.
    RTGW_MAX_BACKPRESSURE_BYTES: integer(1024, undefined, "bytes").default(1024 * 1024),
    // One token bucket per client operation and connection.
    RTGW_PUBLISH_RATE: rate("publishes", 50),
    RTGW_PUBLISH_BURST: burst(100),
    RTGW_SUBSCRIBE_RATE: rate("subscribes", 20),
    RTGW_SUBSCRIBE_BURST: burst(200),
    RTGW_UNSUBSCRIBE_RATE: rate("unsubscribes", 20),
    RTGW_UNSUBSCRIBE_BURST: burst(200),
    RTGW_PRESENCE_RATE: rate("presence requests", 2),
    RTGW_PRESENCE_BURST: burst(10),
    RTGW_HISTORY_RATE: rate("subscribes with since (history replays)", 10),
    RTGW_HISTORY_BURST: burst(200),
    RTGW_REFRESH_RATE: rate("token refreshes", 0.2),
    RTGW_REFRESH_BURST: burst(5),
    // sub: others see each presence member's token `sub`; none: only connectionId and node.
    RTGW_PRESENCE_FIELDS: choice(["sub", "none"]).default("sub"),
    // The node registry (server API `info`, `channels`): a heartbeat every third of it; a node silent this long is gone.
    RTGW_NODE_TTL_SECONDS: integer(2, 3600, "seconds").default(15),
    // Channel namespaces and backend hooks (gateway/src/namespaces/schema.ts); unset: one default namespace.
    RTGW_CONFIG: text("the path of a YAML or JSON config file").optional(),
    RTGW_RATE_LIMIT_STRIKES: integer(1).default(20), // rate_limited errors in a row before close 1008
  })
  .superRefine((c, ctx) => {
    if ((c.RTGW_TLS_CERT_FILE === undefined) !== (c.RTGW_TLS_KEY_FILE === undefined))
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_TLS_CERT_FILE"],
        message: "and RTGW_TLS_KEY_FILE go together: set both or neither",
      });
    // One credential per boundary: a backend that may publish must not be able to drain the fleet.
    if (c.RTGW_ADMIN_KEY !== undefined && c.RTGW_ADMIN_KEY === c.RTGW_API_KEY)
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_ADMIN_KEY"],
        message: "must differ from RTGW_API_KEY (publishing must not grant /admin/*)",
      });
    if (c.RTGW_BROKER === "redis" && !c.RTGW_REDIS_URL)
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_REDIS_URL"],
        message: "is required when RTGW_BROKER=redis (a redis:// or rediss:// URL)",
      });
    if (c.RTGW_AUTH === "jwt" && !c.RTGW_JWT_SECRET && !c.RTGW_JWT_PUBLIC_KEY && !c.RTGW_JWT_JWKS_URL)
      ctx.addIssue({
        code: "custom",
        message:
          "RTGW_AUTH=jwt needs RTGW_JWT_SECRET (HS256), RTGW_JWT_PUBLIC_KEY (RS256/ES256 PEM) or RTGW_JWT_JWKS_URL",
      });
  });

type Settings = Fields<z.output<typeof gatewaySettings>, typeof PREFIX>;

/** The parsed variables by field name, plus what is derived from several of them. */
export type GatewayConfig = Omit<Settings, "nodeId" | "presenceFields" | "config"> & {
  /** RTGW_CONFIG's path, if set. */
  configFile: string | undefined;
  /** Each channel's options, from RTGW_CONFIG's namespaces (defaults: the RTGW_HISTORY_* variables). */
  namespaces: Namespaces;
  /** RTGW_CONFIG's backend hooks; none without the file. */
  proxy: ConfigFile["proxy"];
  /** Always set (default: the host name and a random suffix). */
  nodeId: string;
  /** PEM files: with both, the client port speaks TLS (uWS SSLApp). */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Member fields presence answers and join/leave frames show besides connectionId. */
  presenceFields: ReadonlySet<PresenceField>;
  /** Per-connection token bucket of each rate-limited client operation (publish included). */
  rateLimits: Record<LimitedOperation, { rate: number; burst: number }>;
};

export type ConfigResult =
  | {
      ok: true;
      config: GatewayConfig;
      /** RTGW_* variables set but not the gateway's (a typo?): main warns about each. */
      unknown: string[];
    }
  | { ok: false; errors: string[] };

/** Parse the environment (and RTGW_CONFIG's file, through `read`). The caller decides how to report errors. */
export function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  read: (path: string) => string = (path) => readFileSync(path, "utf8"),
): ConfigResult {
  const parsed: Parsed<Settings> = parseEnv(gatewaySettings, PREFIX, env);
  if (!parsed.ok) return parsed;
  const { config: configFile, ...c } = parsed.value;
  const file = configFile === undefined ? undefined : readConfigFile(configFile, read);
  if (file && !file.ok) return file;
  const options = file?.value;
  return {
    ok: true,
    config: {
      ...c,
      configFile,
      namespaces: createNamespaces(
        { historySize: c.historySize, historyTtlSeconds: c.historyTtlSeconds },
        options,
      ),
      proxy: options?.proxy ?? {},
      nodeId: c.nodeId ?? `${hostname()}-${randomBytes(3).toString("hex")}`,
      tls: c.tlsCertFile && c.tlsKeyFile ? { certFile: c.tlsCertFile, keyFile: c.tlsKeyFile } : undefined,
      presenceFields: new Set(c.presenceFields === "sub" ? ["sub"] : []),
      rateLimits: {
        publish: { rate: c.publishRate, burst: c.publishBurst },
        subscribe: { rate: c.subscribeRate, burst: c.subscribeBurst },
        unsubscribe: { rate: c.unsubscribeRate, burst: c.unsubscribeBurst },
        presence: { rate: c.presenceRate, burst: c.presenceBurst },
        history: { rate: c.historyRate, burst: c.historyBurst },
        refresh: { rate: c.refreshRate, burst: c.refreshBurst },
      },
    },
    unknown: unknownVariables(gatewaySettings, PREFIX, env),
  };
}
