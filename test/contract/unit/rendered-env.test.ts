// The contract between the operator and the gateway: every RTGW_* variable the operator renders for a gateway pod
// (the ConfigMap it reads through envFrom, the container's env with its secret and field references resolved as
// the kubelet would) is one the gateway's parser knows, and the parser accepts its value. Checked for a full
// RealtimeGateway and for the same one with every number at the edge its schema allows, so a CR the API server
// admits never renders pods that exit 2 (a crash loop) on their configuration.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { z } from "zod";
import { gatewaySettings, parseConfig } from "../../../gateway/src/config.js";
import { openApiSchema } from "../../../operator/src/api/crd.js";
import { parseRealtimeGateway, type RealtimeGateway } from "../../../operator/src/api/realtimegateway.js";
import { renderAdminSecret } from "../../../operator/src/render/admin-secret.js";
import { GATEWAY_PORT, METRICS_PORT } from "../../../operator/src/render/configmap.js";
import { CONTAINER_NAME } from "../../../operator/src/render/deployment.js";
import { renderAll } from "../../../operator/src/render/index.js";

const POD_NAME = "chat-7d9f8b6c4-x2k9q";
const USER_SECRETS = {
  "chat-redis/url": "rediss://:s3cret@redis.prod:6380",
  "chat-jwt/hs256": "an-hs256-secret-of-at-least-32-bytes",
  "chat-api/key": "a-backend-publish-key",
};

const FULL_SPEC = {
  image: "ghcr.io/acme/rtgw:2.3.4",
  replicas: 7,
  autoscaling: {
    enabled: true,
    minReplicas: 3,
    maxReplicas: 40,
    targetConnectionsPerPod: 20000,
    tolerance: 0.2,
    scaleUpStabilizationSeconds: 10,
    scaleDownStabilizationSeconds: 600,
  },
  drain: { seconds: 120 },
  redis: { secretRef: { name: "chat-redis", key: "url" } },
  auth: {
    jwtSecretRef: { name: "chat-jwt", key: "hs256" },
    issuer: "https://id.example.com",
    audience: ["chat", "chat-admin"],
  },
  allowedOrigins: ["https://app.example.com", "https://*.example.com"],
  apiKeySecretRef: { name: "chat-api", key: "key" },
  tls: { secretName: "chat-tls" },
  limits: { maxConnectionsPerPod: 50000, maxMessageBytes: 131072 },
  resources: { requests: { cpu: "2", memory: "2Gi" }, limits: { memory: "4Gi" } },
  service: { type: "LoadBalancer", port: 443 },
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

const envVar = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .strictObject({
      fieldRef: z.strictObject({ fieldPath: z.literal("metadata.name") }).optional(),
      secretKeyRef: z.strictObject({ name: z.string(), key: z.string() }).optional(),
    })
    .optional(),
});
const configMap = z.object({
  kind: z.literal("ConfigMap"),
  metadata: z.object({ name: z.string() }),
  data: z.record(z.string(), z.string()),
});
const deployment = z.object({
  kind: z.literal("Deployment"),
  spec: z.object({
    template: z.object({
      spec: z.object({
        containers: z.array(
          z.object({
            name: z.string(),
            envFrom: z.array(z.strictObject({ configMapRef: z.object({ name: z.string() }) })).default([]),
            env: z.array(envVar).default([]),
          }),
        ),
      }),
    }),
  }),
});

/**
 * The gateway container's environment as the kubelet builds it: envFrom first, env over it; a reference the
 * test cannot resolve (another kind of source, a Secret it does not know) fails instead of being skipped.
 */
function podEnvironment(gw: RealtimeGateway, secrets: Record<string, string>): Record<string, string> {
  const objects = renderAll({ gateway: gw });
  const maps = objects.filter((o) => o.kind === "ConfigMap").map((o) => configMap.parse(o));
  const [pods] = objects.filter((o) => o.kind === "Deployment").map((o) => deployment.parse(o));
  const container = pods?.spec.template.spec.containers.find((c) => c.name === CONTAINER_NAME);
  assert.ok(container, "the Deployment has the gateway container");
  const env: Record<string, string> = {};
  for (const source of container.envFrom) {
    const map = maps.find((m) => m.metadata.name === source.configMapRef.name);
    assert.ok(map, `envFrom names ConfigMap ${source.configMapRef.name}, which the operator does not render`);
    Object.assign(env, map.data);
  }
  for (const variable of container.env) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (from?.fieldRef) env[variable.name] = POD_NAME;
    else if (from?.secretKeyRef) {
      const ref = `${from.secretKeyRef.name}/${from.secretKeyRef.key}`;
      const value = secrets[ref];
      assert.ok(
        value !== undefined,
        `${variable.name} reads Secret key ${ref}, which this test does not know`,
      );
      env[variable.name] = value;
    } else assert.fail(`${variable.name} has neither a value nor a reference this test resolves`);
  }
  return env;
}

/** The admin Secret as the reconciler creates it (a random key), decoded as the kubelet hands it to the pod. */
function adminSecret(gw: RealtimeGateway): Record<string, string> {
  const secret = z
    .object({ metadata: z.object({ name: z.string() }), data: z.record(z.string(), z.string()) })
    .parse(renderAdminSecret(gw, randomBytes(32).toString("base64url")));
  return Object.fromEntries(
    Object.entries(secret.data).map(([key, b64]) => [
      `${secret.metadata.name}/${key}`,
      Buffer.from(b64, "base64").toString(),
    ]),
  );
}

const specSchema = jsonSchema.parse(jsonSchema.parse(openApiSchema()).properties?.spec);
const CASES: Array<[string, unknown]> = [
  ["a full RealtimeGateway", FULL_SPEC],
  ["a minimal one (plain Redis URL, no auth)", { image: "x", redis: { url: "redis://redis:6379" } }],
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
          jwtSecret: gw.spec.auth ? USER_SECRETS["chat-jwt/hs256"] : undefined,
          apiKey: gw.spec.apiKeySecretRef ? USER_SECRETS["chat-api/key"] : undefined,
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
