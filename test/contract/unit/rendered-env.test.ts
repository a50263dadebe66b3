// The contract between the operator and the gateway: every RTGW_* variable the operator renders for a gateway pod
// (the ConfigMap it reads through envFrom, the container's env with its secret and field references resolved as
// the kubelet would) is one the gateway's parser knows, and the parser accepts its value. Checked for a full
// RealtimeGateway and for the same one with every number at the edge its schema allows, so a CR the API server
// admits never renders pods that exit 2 (a crash loop) on their configuration.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { gatewaySettings, parseConfig } from "../../../gateway/src/config.js";
import { openApiSchema } from "../../../operator/src/api/crd.js";
import { parseRealtimeGateway, type RealtimeGateway } from "../../../operator/src/api/realtimegateway.js";
import { GATEWAY_PORT, METRICS_PORT } from "../../../operator/src/render/configmap.js";
import { FULL_SPEC } from "../../../test-support/full-gateway-spec.js";
import { adminSecret, POD_NAME, podEnvironment } from "../support/pod.js";

const USER_SECRETS = {
  "chat-redis/url": "rediss://:s3cret@redis.prod:6380",
  "chat-jwt/hs256": "an-hs256-secret-of-at-least-32-bytes",
  "chat-publish/key": "a-backend-publish-key",
};

function gateway(spec: unknown): RealtimeGateway {
  const parsed = parseRealtimeGateway({ metadata: { name: "chat", namespace: "prod", uid: "u-1" }, spec });
  if (!parsed.ok) throw new Error(`the API would refuse this RealtimeGateway: ${parsed.message}`);
  return parsed.gateway;
}

const jsonSchema = z.looseObject({
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  get properties() {
    return z.record(z.string(), jsonSchema).optional();
  },
});
type JsonSchema = z.infer<typeof jsonSchema>;

/** `spec` with every number set to the minimum (or maximum) its schema allows; arrays left as they are. */
function atTheEdge(spec: unknown, schema: JsonSchema, edge: "minimum" | "maximum"): unknown {
  if (typeof spec === "number") return schema[edge] ?? spec;
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return spec;
  return Object.fromEntries(
    Object.entries(spec).map(([key, value]) => {
      const child = schema.properties?.[key];
      return [key, child ? atTheEdge(value, child, edge) : value];
    }),
  );
}

const specSchema = jsonSchema.parse(jsonSchema.parse(openApiSchema()).properties?.spec);
const CASES: Array<[string, unknown]> = [
  ["a full RealtimeGateway", FULL_SPEC],
  ["a minimal one (plain Redis URL, no auth)", { image: "x", redis: { url: "redis://redis:6379" } }],
  [
    "tokens checked against a JWKS only (no HS256 secret)",
    {
      ...FULL_SPEC,
      auth: {
        jwksUrl: "https://id.example.com:8443/.well-known/jwks.json",
        issuer: "https://id.example.com",
      },
    },
  ],
  ["the full one with every number at its schema's minimum", atTheEdge(FULL_SPEC, specSchema, "minimum")],
  ["the full one with every number at its schema's maximum", atTheEdge(FULL_SPEC, specSchema, "maximum")],
];

describe("operator → gateway configuration contract", () => {
  for (const [name, spec] of CASES) {
    it(`${name}: every rendered RTGW_* is the gateway's, and accepted`, () => {
      const gw = gateway(spec);
      const admin = adminSecret(gw);
      const env = podEnvironment(gw, { ...USER_SECRETS, ...admin });
      const known = Object.keys(gatewaySettings.shape);
      assert.deepEqual(
        Object.keys(env).filter((variable) => !known.includes(variable)),
        [],
        "the operator renders variables the gateway does not read",
      );
      const parsed = parseConfig(env);
      assert.ok(parsed.ok, `the gateway refuses what the operator renders: ${JSON.stringify(parsed)}`);
      assert.deepEqual(parsed.unknown, []);
      const { config } = parsed;
      // What the operator means by each variable is what the gateway reads from it.
      assert.deepEqual(
        {
          port: config.port,
          metricsPort: config.metricsPort,
          nodeId: config.nodeId,
          broker: config.broker,
          redisUrl: config.redisUrl,
          auth: config.auth,
          jwtSecret: config.jwtSecret,
          jwtJwksUrl: config.jwtJwksUrl,
          apiKey: config.apiKey,
          adminKey: config.adminKey,
          jwtIssuer: config.jwtIssuer,
          jwtAudience: config.jwtAudience,
          allowedOrigins: config.allowedOrigins,
          tls: config.tls !== undefined,
          maxConnections: config.maxConnections,
          maxMessageBytes: config.maxMessageBytes,
          drainSeconds: config.drainSeconds,
        },
        {
          port: GATEWAY_PORT,
          metricsPort: METRICS_PORT,
          nodeId: POD_NAME,
          broker: "redis",
          redisUrl: gw.spec.redis.url ?? USER_SECRETS["chat-redis/url"],
          auth: gw.spec.auth ? "jwt" : "none",
          jwtSecret: gw.spec.auth?.jwtSecretRef ? USER_SECRETS["chat-jwt/hs256"] : undefined,
          jwtJwksUrl: gw.spec.auth?.jwksUrl,
          apiKey: gw.spec.apiKeySecretRef ? USER_SECRETS["chat-publish/key"] : undefined,
          adminKey: Object.values(admin)[0],
          jwtIssuer: gw.spec.auth?.issuer,
          jwtAudience: gw.spec.auth?.audience,
          allowedOrigins: gw.spec.allowedOrigins,
          tls: gw.spec.tls !== undefined,
          maxConnections: gw.spec.limits.maxConnectionsPerPod,
          maxMessageBytes: gw.spec.limits.maxMessageBytes,
          drainSeconds: gw.spec.drain.seconds,
        },
      );
    });
  }

  it("the edges are real edges (the walk found the limits)", () => {
    const low = gateway(atTheEdge(FULL_SPEC, specSchema, "minimum"));
    const high = gateway(atTheEdge(FULL_SPEC, specSchema, "maximum"));
    assert.ok(low.spec.limits.maxConnectionsPerPod < FULL_SPEC.limits.maxConnectionsPerPod);
    assert.ok(high.spec.limits.maxMessageBytes > FULL_SPEC.limits.maxMessageBytes);
    assert.ok(low.spec.drain.seconds < FULL_SPEC.drain.seconds);
  });
});
