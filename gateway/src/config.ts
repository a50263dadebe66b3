// Gateway configuration: one zod schema over the RTGW_* environment variables.
// A bad value is reported with the variable's name and what it allows; main exits with status 2.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";
import type { PresenceField } from "./presence-fields.js";
import type { LimitedOperation } from "./rate-limit.js";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const positiveNumber = z.coerce.number().positive();
const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** Each key is the variable's name; each value its rule and default. Descriptions feed the error message. */
export const configSchema = z
  .object({
    RTGW_PORT: port.default(8080).describe("an integer port 0-65535"),
    RTGW_HOST: z.string().min(1).default("0.0.0.0").describe("a bind address such as 0.0.0.0 or 127.0.0.1"),
    RTGW_METRICS_PORT: port.default(9090).describe("an integer port 0-65535"),
    RTGW_NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
      .optional()
      .describe("1-128 of letters, digits, _ . : -"),
    RTGW_LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info")
      .describe("one of fatal, error, warn, info, debug, trace, silent"),
    RTGW_BROKER: z.enum(["memory", "redis"]).default("memory").describe("memory or redis"),
    RTGW_REDIS_URL: z
      .string()
      .regex(/^rediss?(\+sentinel)?:\/\/\S+$/)
      .optional()
      .describe(
        "a redis:// or rediss:// URL (with RTGW_REDIS_CLUSTER: a comma-separated list of them), or redis+sentinel://s1:p1,s2:p2/<master name>",
      ),
    RTGW_REDIS_CLUSTER: flag.default(false).describe("true or false"),
    RTGW_AUTH: z.enum(["none", "jwt"]).default("none").describe("none or jwt"),
    RTGW_JWT_SECRET: z
      .string()
      // A custom message: the generic one would print the value, and this one is a secret.
      .refine((v) => Buffer.byteLength(v, "utf8") >= 32, {
        message:
          "RTGW_JWT_SECRET is invalid: expected an HS256 secret of at least 32 bytes (RFC 7518: the hash size)",
      })
      .optional()
      .describe("an HS256 secret of at least 32 bytes (RFC 7518: at least the hash size)"),
    RTGW_JWT_PUBLIC_KEY: z
      .string()
      .includes("-----BEGIN PUBLIC KEY-----")
      .optional()
      .describe("a PEM public key (-----BEGIN PUBLIC KEY-----) for RS256 or ES256"),
    RTGW_JWT_JWKS_URL: z
      .string()
      .url()
      .regex(/^https?:\/\//)
      .optional()
      .describe("an http(s) URL of a JSON Web Key Set (keys fetched, cached and re-fetched on rotation)"),
    RTGW_JWT_ISSUER: z.string().min(1).optional().describe("the required `iss` claim"),
    RTGW_JWT_AUDIENCE: z
      .string()
      .min(1)
      .optional()
      .describe("the required `aud` claim (comma-separated: any of them)"),
    RTGW_ALLOWED_ORIGINS: z
      .string()
      .regex(
        /^\s*(https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d+)?)(\s*,\s*https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d+)?)*\s*$/,
      )
      .optional()
      .describe(
        "comma-separated origins such as https://app.example.com or https://*.example.com (scheme, host, optional port)",
      ),
    RTGW_TLS_CERT_FILE: z
      .string()
      .min(1)
      .optional()
      .describe("a PEM certificate (chain) file: the client port serves https:// and wss://"),
    RTGW_TLS_KEY_FILE: z
      .string()
      .min(1)
      .optional()
      .describe("the PEM private key file of RTGW_TLS_CERT_FILE"),
    RTGW_API_KEY: z.string().min(8).optional().describe("a bearer key of at least 8 characters"),
    RTGW_ADMIN_KEY: z
      .string()
      .min(16)
      .optional()
      .describe("a bearer key of at least 16 characters (for /admin/* on RTGW_METRICS_PORT)"),
    RTGW_MAX_CONNECTIONS: positiveInt.default(100_000).describe("a positive integer"),
    RTGW_MAX_MESSAGE_BYTES: z.coerce
      .number()
      .int()
      .min(256)
      .max(16 * 1024 * 1024)
      .default(65_536)
      .describe("an integer 256-16777216"),
    RTGW_MAX_SUBSCRIPTIONS: positiveInt.default(100).describe("a positive integer (per connection)"),
    RTGW_DRAIN_SECONDS: z.coerce.number().min(0).max(3600).default(30).describe("seconds 0-3600"),
    RTGW_COMPRESSION: z
      .enum(["off", "shared", "dedicated"])
      .default("off")
      .describe("off, shared or dedicated"),
    RTGW_HISTORY_SIZE: nonNegativeInt.max(1_000_000).default(100).describe("an integer 0-1000000"),
    RTGW_HISTORY_TTL_SECONDS: positiveInt.default(300).describe("a positive integer (seconds)"),
    RTGW_IDLE_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .min(8)
      .max(960)
      .default(60)
      .describe("an integer 8-960 (seconds; pings go out automatically before it)"),
    RTGW_MAX_BACKPRESSURE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe("an integer >= 1024: a socket whose send buffer passes it is closed"),
    RTGW_PUBLISH_RATE: positiveNumber
      .default(50)
      .describe("a positive number (publishes per second per connection)"),
    RTGW_PUBLISH_BURST: positiveInt.default(100).describe("a positive integer (token bucket size)"),
    RTGW_SUBSCRIBE_RATE: positiveNumber
      .default(20)
      .describe("a positive number (subscribes per second per connection)"),
    RTGW_SUBSCRIBE_BURST: positiveInt.default(200).describe("a positive integer (token bucket size)"),
    RTGW_UNSUBSCRIBE_RATE: positiveNumber
      .default(20)
      .describe("a positive number (unsubscribes per second per connection)"),
    RTGW_UNSUBSCRIBE_BURST: positiveInt.default(200).describe("a positive integer (token bucket size)"),
    RTGW_PRESENCE_RATE: positiveNumber
      .default(2)
      .describe("a positive number (presence requests per second per connection)"),
    RTGW_PRESENCE_BURST: positiveInt.default(10).describe("a positive integer (token bucket size)"),
    RTGW_HISTORY_RATE: positiveNumber
      .default(10)
      .describe("a positive number (subscribes with since, i.e. history replays, per second per connection)"),
    RTGW_HISTORY_BURST: positiveInt.default(200).describe("a positive integer (token bucket size)"),
    RTGW_REFRESH_RATE: positiveNumber
      .default(0.2)
      .describe("a positive number (token refreshes per second per connection)"),
    RTGW_REFRESH_BURST: positiveInt.default(5).describe("a positive integer (token bucket size)"),
    RTGW_PRESENCE_FIELDS: z
      .string()
      .regex(/^\s*(none|sub)\s*$/)
      .default("sub")
      .describe(
        "sub (others see the token's sub of each presence member) or none (only connectionId and node)",
      ),
    RTGW_RATE_LIMIT_STRIKES: positiveInt
      .default(20)
      .describe("a positive integer: rate_limited errors in a row before close 1008"),
  })
  .superRefine((c, ctx) => {
    if ((c.RTGW_TLS_CERT_FILE === undefined) !== (c.RTGW_TLS_KEY_FILE === undefined))
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_TLS_CERT_FILE"],
        message: "RTGW_TLS_CERT_FILE and RTGW_TLS_KEY_FILE go together: set both or neither",
      });
    // One credential per boundary: a backend that may publish must not be able to drain the fleet.
    if (c.RTGW_ADMIN_KEY !== undefined && c.RTGW_ADMIN_KEY === c.RTGW_API_KEY)
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_ADMIN_KEY"],
        message: "RTGW_ADMIN_KEY must differ from RTGW_API_KEY (publishing must not grant /admin/*)",
      });
    if (c.RTGW_BROKER === "redis" && !c.RTGW_REDIS_URL)
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_REDIS_URL"],
        message: "RTGW_REDIS_URL is required when RTGW_BROKER=redis (a redis:// or rediss:// URL)",
      });
    if (c.RTGW_AUTH === "jwt" && !c.RTGW_JWT_SECRET && !c.RTGW_JWT_PUBLIC_KEY && !c.RTGW_JWT_JWKS_URL)
      ctx.addIssue({
        code: "custom",
        path: ["RTGW_JWT_SECRET"],
        message:
          "RTGW_AUTH=jwt needs RTGW_JWT_SECRET (HS256), RTGW_JWT_PUBLIC_KEY (RS256/ES256 PEM) or RTGW_JWT_JWKS_URL",
      });
  });

export interface GatewayConfig {
  port: number;
  host: string;
  metricsPort: number;
  nodeId: string;
  logLevel: string;
  broker: "memory" | "redis";
  redisUrl: string | undefined;
  redisCluster: boolean;
  auth: "none" | "jwt";
  jwtSecret: string | undefined;
  jwtPublicKey: string | undefined;
  jwtJwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  /** Any of these `aud` values is accepted; undefined: no audience check. */
  jwtAudience: string[] | undefined;
  /** Exact origins and `scheme://*.domain` patterns; undefined: no Origin check. */
  allowedOrigins: string[] | undefined;
  /** PEM files: with both, the client port speaks TLS (uWS SSLApp). */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Bearer key for the server API (POST /api/publish) on the client port. */
  apiKey: string | undefined;
  /** Bearer key for /admin/* on the internal port. */
  adminKey: string | undefined;
  maxConnections: number;
  maxMessageBytes: number;
  maxSubscriptions: number;
  drainSeconds: number;
  compression: "off" | "shared" | "dedicated";
  historySize: number;
  historyTtlSeconds: number;
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  publishRate: number;
  publishBurst: number;
  rateLimitStrikes: number;
  /** Member fields presence answers and join/leave frames show besides connectionId. */
  presenceFields: ReadonlySet<PresenceField>;
  /** Per-connection token bucket of each rate-limited client operation (publish included). */
  rateLimits: Record<LimitedOperation, { rate: number; burst: number }>;
}

export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; errors: string[] };

function splitList(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const items = v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return items.length > 0 ? items : undefined;
}

/** Parse the environment. Pure: the caller decides how to report errors. */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  // Empty strings count as unset, as they do for most tools reading env.
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== "") input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "config");
      if (issue.code === "custom") return issue.message;
      const field = configSchema.shape[name as keyof typeof configSchema.shape];
      const allowed = field?.description ?? issue.message;
      return `${name}=${JSON.stringify(input[name] ?? "")} is invalid: expected ${allowed}`;
    });
    return { ok: false, errors };
  }
  const c = parsed.data;
  return {
    ok: true,
    config: {
      port: c.RTGW_PORT,
      host: c.RTGW_HOST,
      metricsPort: c.RTGW_METRICS_PORT,
      nodeId: c.RTGW_NODE_ID ?? `${hostname()}-${randomBytes(3).toString("hex")}`,
      logLevel: c.RTGW_LOG_LEVEL,
      broker: c.RTGW_BROKER,
      redisUrl: c.RTGW_REDIS_URL,
      redisCluster: c.RTGW_REDIS_CLUSTER,
      auth: c.RTGW_AUTH,
      jwtSecret: c.RTGW_JWT_SECRET,
      jwtPublicKey: c.RTGW_JWT_PUBLIC_KEY,
      jwtJwksUrl: c.RTGW_JWT_JWKS_URL,
      jwtIssuer: c.RTGW_JWT_ISSUER,
      jwtAudience: splitList(c.RTGW_JWT_AUDIENCE),
      allowedOrigins: splitList(c.RTGW_ALLOWED_ORIGINS),
      tls:
        c.RTGW_TLS_CERT_FILE && c.RTGW_TLS_KEY_FILE
          ? { certFile: c.RTGW_TLS_CERT_FILE, keyFile: c.RTGW_TLS_KEY_FILE }
          : undefined,
      apiKey: c.RTGW_API_KEY,
      adminKey: c.RTGW_ADMIN_KEY,
      maxConnections: c.RTGW_MAX_CONNECTIONS,
      maxMessageBytes: c.RTGW_MAX_MESSAGE_BYTES,
      maxSubscriptions: c.RTGW_MAX_SUBSCRIPTIONS,
      drainSeconds: c.RTGW_DRAIN_SECONDS,
      compression: c.RTGW_COMPRESSION,
      historySize: c.RTGW_HISTORY_SIZE,
      historyTtlSeconds: c.RTGW_HISTORY_TTL_SECONDS,
      idleTimeoutSeconds: c.RTGW_IDLE_TIMEOUT_SECONDS,
      maxBackpressureBytes: c.RTGW_MAX_BACKPRESSURE_BYTES,
      publishRate: c.RTGW_PUBLISH_RATE,
      publishBurst: c.RTGW_PUBLISH_BURST,
      rateLimitStrikes: c.RTGW_RATE_LIMIT_STRIKES,
      presenceFields: new Set(
        (splitList(c.RTGW_PRESENCE_FIELDS) ?? []).filter((f): f is PresenceField => f === "sub"),
      ),
      rateLimits: {
        publish: { rate: c.RTGW_PUBLISH_RATE, burst: c.RTGW_PUBLISH_BURST },
        subscribe: { rate: c.RTGW_SUBSCRIBE_RATE, burst: c.RTGW_SUBSCRIBE_BURST },
        unsubscribe: { rate: c.RTGW_UNSUBSCRIBE_RATE, burst: c.RTGW_UNSUBSCRIBE_BURST },
        presence: { rate: c.RTGW_PRESENCE_RATE, burst: c.RTGW_PRESENCE_BURST },
        history: { rate: c.RTGW_HISTORY_RATE, burst: c.RTGW_HISTORY_BURST },
        refresh: { rate: c.RTGW_REFRESH_RATE, burst: c.RTGW_REFRESH_BURST },
      },
    },
  };
}
