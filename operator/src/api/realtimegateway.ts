// The RealtimeGateway API: ONE zod schema that is the source of the TypeScript types, the runtime parser for CRs
// read from the API server, and (through crd.ts) the CRD's OpenAPI v3 schema. CEL rules live next to the field
// they constrain, each with a TypeScript twin (`check`) so a CR that slipped past the API server (an old CRD, a
// disabled validation) is still caught here and reported as Degraded instead of crashing the reconciler. A test
// evaluates every rule with a real CEL evaluator against its twin over a table of CRs.
import { z } from "zod";
import { type CelRule, cel } from "./cel.js";
import { HOST_PORT, namespacesSpecFields, namespacesViolations, proxyNeedsRules } from "./namespaces.js";
import { type SecretKeyRef, secretKeyRef } from "./secret-ref.js";

export type { CelRule, SecretKeyRef };

export const GROUP = "rtgw.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "RealtimeGateway";
export const PLURAL = "realtimegateways";
export const SINGULAR = "realtimegateway";
export const SHORT_NAMES = ["rtgw"];

/** Marks a schema as Kubernetes int-or-string (quantities like `500m` or `1`); crd.ts rewrites the anyOf. */
export const INT_OR_STRING = "x-kubernetes-int-or-string";
/** A resource quantity (`500m`, `1Gi`, `2`): the CRD checks strings with the same pattern through CEL. */
export const QUANTITY_PATTERN = "^[0-9]+([.][0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
export const quantityRule: CelRule<number | string> = {
  rule: `type(self) == int || self.matches('${QUANTITY_PATTERN}')`,
  message: "must be a Kubernetes quantity such as 500m, 1Gi or 2",
  check: (v) => typeof v === "number" || new RegExp(QUANTITY_PATTERN).test(v),
};
const quantity = z
  .union([z.number().int(), z.string().regex(new RegExp(QUANTITY_PATTERN))])
  .meta({ [INT_OR_STRING]: true, ...cel([quantityRule]) });

const scalingPolicy = z.object({
  pods: z.number().int().min(1).max(1000).optional().describe("at most this many pods per period"),
  percent: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe("at most this percent of current pods per period"),
  periodSeconds: z.number().int().min(1).max(1800).default(15),
});
export type ScalingPolicy = z.infer<typeof scalingPolicy>;

type AutoscalingInput = { minReplicas: number; maxReplicas: number; targetConnectionsPerPod: number };
export const autoscalingRules: CelRule<AutoscalingInput>[] = [
  {
    rule: "self.minReplicas <= self.maxReplicas",
    message: "autoscaling.minReplicas must be <= autoscaling.maxReplicas",
    check: (s) => s.minReplicas <= s.maxReplicas,
  },
  {
    rule: "self.targetConnectionsPerPod > 0",
    message: "autoscaling.targetConnectionsPerPod must be > 0",
    check: (s) => s.targetConnectionsPerPod > 0,
  },
];

const autoscaling = z
  .object({
    enabled: z.boolean().default(true),
    minReplicas: z.number().int().min(1).max(1000).default(2),
    maxReplicas: z.number().int().min(1).max(1000).default(50),
    targetConnectionsPerPod: z.number().int().min(1).max(1_000_000).default(10_000),
    tolerance: z.number().min(0).max(1).default(0.1),
    scaleUpStabilizationSeconds: z.number().int().min(0).max(3600).default(0),
    scaleDownStabilizationSeconds: z.number().int().min(0).max(3600).default(300),
    scaleUp: scalingPolicy.default({ pods: 4, percent: 100, periodSeconds: 15 }),
    scaleDown: scalingPolicy.default({ percent: 100, periodSeconds: 15 }),
  })
  .meta(cel(autoscalingRules));

type RedisInput = { url?: string | undefined; secretRef?: SecretKeyRef | undefined };
export const redisRules: CelRule<RedisInput>[] = [
  {
    rule: "has(self.url) != has(self.secretRef)",
    message: "set exactly one of redis.url or redis.secretRef",
    check: (s) => (s.url !== undefined) !== (s.secretRef !== undefined),
  },
  {
    // Credentials in the URL would land in the ConfigMap, readable by anyone who may read ConfigMaps.
    rule: "!has(self.url) || !self.url.matches('://[^/@,]*@')",
    message:
      "redis.url must not carry credentials (user:password@): put the whole URL in a Secret and reference it with redis.secretRef",
    check: (s) => s.url === undefined || !/:\/\/[^/@,]*@/.test(s.url),
  },
];
const redis = z
  .object({
    url: z
      .string()
      .regex(/^rediss?:\/\/\S+$/)
      .max(2048)
      .optional()
      .describe("redis:// or rediss:// URL without a password (use secretRef for credentials)"),
    secretRef: secretKeyRef.optional().describe("Secret key holding the full Redis URL"),
  })
  .meta(cel(redisRules));

const drain = z.object({
  seconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(30)
    .describe("window over which a drain spreads its closes"),
});

const limits = z.object({
  maxConnectionsPerPod: z.number().int().min(1).max(1_000_000).default(100_000),
  // The gateway's own bounds (RTGW_MAX_MESSAGE_BYTES): a CR the API admits must not render pods that exit 2.
  maxMessageBytes: z
    .number()
    .int()
    .min(256)
    .max(16 * 1024 * 1024)
    .default(65_536),
});

const resources = z.object({
  requests: z.record(z.string(), quantity).optional(),
  limits: z.record(z.string(), quantity).optional(),
});

const service = z.object({
  type: z.enum(["ClusterIP", "NodePort", "LoadBalancer"]).default("ClusterIP"),
  port: z.number().int().min(1).max(65535).default(80),
});

const labels = z.record(z.string().min(1).max(317), z.string().max(63));
const peer = z.object({
  namespaceSelector: z
    .object({ matchLabels: labels.optional() })
    .optional()
    .describe("namespaces the peer pods run in ({} = every namespace; omitted = the gateway's own)"),
  podSelector: z.object({ matchLabels: labels.optional() }).optional().describe("the peer pods"),
});
type Peer = z.infer<typeof peer>;
export const DEFAULT_INTERNAL_PEERS: Peer[] = [
  {
    namespaceSelector: {},
    podSelector: {
      matchLabels: {
        "app.kubernetes.io/component": "operator",
        "app.kubernetes.io/part-of": "realtime-gateway",
      },
    },
  },
  { namespaceSelector: {}, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } },
];
const networkPolicy = z.object({
  enabled: z.boolean().default(true).describe("render a NetworkPolicy for the gateway pods"),
  internalFrom: z
    .array(peer)
    .max(16)
    .default(DEFAULT_INTERNAL_PEERS)
    .describe("who may reach the internal port (metrics, /admin/*): by default the operator and Prometheus"),
  redisPorts: z
    .array(z.number().int().min(1).max(65535))
    .min(1)
    .max(8)
    .default([6379])
    .describe("egress ports to Redis (besides DNS)"),
});

/**
 * The issuer's JSON Web Key Set: https only (the keys decide who may connect, so never over plain HTTP), a host
 * and path, no `user:password@` (it sits in the ConfigMap in clear). The gateway's own check allows http too.
 */
export const JWKS_URL_RE = new RegExp(`^https://${HOST_PORT}(/[!-~]*)?$`);
type AuthInput = { jwtSecretRef?: unknown; jwksUrl?: unknown };
export const authRules: CelRule<AuthInput>[] = [
  {
    rule: "has(self.jwtSecretRef) || has(self.jwksUrl)",
    message: "auth needs jwtSecretRef (HS256), jwksUrl (RS256, PS256, ES256, EdDSA by kid) or both",
    check: (a) => a.jwtSecretRef !== undefined || a.jwksUrl !== undefined,
  },
];
const auth = z
  .object({
    jwtSecretRef: secretKeyRef.optional().describe("Secret key holding the HS256 secret (RTGW_JWT_SECRET)"),
    jwksUrl: z
      .string()
      .max(2048)
      .regex(JWKS_URL_RE)
      .optional()
      .describe(
        "https URL of the issuer's JWKS (RTGW_JWT_JWKS_URL): keys picked by kid, re-read on rotation; the NetworkPolicy lets the pods reach its port",
      ),
    issuer: z.string().min(1).max(1024).optional().describe("required `iss` (RTGW_JWT_ISSUER)"),
    audience: z
      .array(z.string().min(1).max(256))
      .min(1)
      .max(16)
      .optional()
      .describe("accepted `aud` values (RTGW_JWT_AUDIENCE)"),
  })
  .meta(cel(authRules));

type SpecInput = {
  autoscaling: AutoscalingInput;
  limits: { maxConnectionsPerPod: number };
  drain: { seconds: number };
};
export const specRules: CelRule<SpecInput>[] = [
  {
    rule: "self.autoscaling.targetConnectionsPerPod <= self.limits.maxConnectionsPerPod",
    message: "autoscaling.targetConnectionsPerPod must not exceed limits.maxConnectionsPerPod",
    check: (s) => s.autoscaling.targetConnectionsPerPod <= s.limits.maxConnectionsPerPod,
  },
];

export const realtimeGatewaySpecSchema = z
  .object({
    image: z.string().min(1).max(1024).describe("gateway container image"),
    replicas: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(2)
      .describe(
        "the scale subresource's specReplicasPath: the autoscaler, kubectl scale or an HPA writes it",
      ),
    autoscaling: autoscaling.default(() => autoscaling.parse({})),
    drain: drain.default({ seconds: 30 }),
    redis,
    auth: auth.optional().describe("without it clients connect unauthenticated"),
    allowedOrigins: z
      .array(
        z
          .string()
          .regex(/^https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:[0-9]+)?$/)
          .max(256),
      )
      .min(1)
      .max(64)
      .optional()
      .describe("browser origins allowed to connect, exact or https://*.example.com (RTGW_ALLOWED_ORIGINS)"),
    apiKeySecretRef: secretKeyRef
      .optional()
      .describe(
        "Secret key holding RTGW_API_KEY, the bearer key backends use for POST /api/publish; without it that answers 403 (the operator's own admin key is a different Secret)",
      ),
    limits: limits.default({ maxConnectionsPerPod: 100_000, maxMessageBytes: 65_536 }),
    resources: resources.optional(),
    service: service.default({ type: "ClusterIP", port: 80 }),
    networkPolicy: networkPolicy.default(() => networkPolicy.parse({})),
    ingress: z
      .object({
        host: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/)
          .max(253)
          .describe("the host clients use, e.g. rt.example.com"),
        className: z.string().min(1).max(253).optional().describe("ingressClassName"),
        tlsSecretName: z
          .string()
          .min(1)
          .max(253)
          .optional()
          .describe("a kubernetes.io/tls Secret: TLS terminates at the Ingress (wss:// to the host)"),
        annotations: z.record(z.string().max(317), z.string().max(4096)).optional(),
      })
      .optional()
      .describe("render an Ingress to the client Service (the client port only)"),
    tls: z
      .object({
        secretName: z
          .string()
          .min(1)
          .max(253)
          .describe("a kubernetes.io/tls Secret (tls.crt, tls.key) in the RealtimeGateway's namespace"),
      })
      .optional()
      .describe("serve the client port over TLS (https://, wss://) with this certificate"),
    ...namespacesSpecFields,
  })
  .meta(cel(specRules, proxyNeedsRules));

export const conditionSchema = z.object({
  type: z.string().min(1).max(316),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().min(1).max(1024),
  message: z.string().max(32768),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof conditionSchema>;
export const CONDITION_TYPES = { Ready: "Ready", Scaling: "Scaling", Degraded: "Degraded" } as const;

export const realtimeGatewayStatusSchema = z.object({
  replicas: z.number().int().min(0).optional(),
  readyReplicas: z.number().int().min(0).optional(),
  connections: z.number().int().min(0).optional(),
  desiredReplicas: z.number().int().min(0).optional(),
  lastScaleTime: z.string().optional(),
  selector: z
    .string()
    .optional()
    .describe("label selector of the gateway pods, as a string (scale subresource)"),
  observedGeneration: z.number().int().min(0).optional(),
  conditions: z
    .array(conditionSchema)
    .optional()
    .meta({
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    }),
});

export type RealtimeGatewaySpec = z.output<typeof realtimeGatewaySpecSchema>;
export type RealtimeGatewaySpecInput = z.input<typeof realtimeGatewaySpecSchema>;
export type RealtimeGatewayStatus = z.output<typeof realtimeGatewayStatusSchema>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

/** A RealtimeGateway after parsing: spec with defaults applied, status as far as it is well-formed. */
export interface RealtimeGateway {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: RealtimeGatewaySpec;
  status?: RealtimeGatewayStatus;
}

const metaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  uid: z.string().min(1),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  deletionTimestamp: z.string().optional(),
});

export type ParsedGateway =
  | { ok: true; gateway: RealtimeGateway }
  | { ok: false; metadata: ObjectMeta | undefined; message: string };

function oneLine(s: string): string {
  return s
    .replaceAll(/\n\s*→\s*/g, " at ")
    .replaceAll("✖ ", "")
    .replaceAll("\n", "; ");
}

function celViolations(spec: RealtimeGatewaySpec): string[] {
  const out: string[] = [];
  for (const r of specRules) if (!r.check(spec)) out.push(r.message);
  for (const r of autoscalingRules) if (!r.check(spec.autoscaling)) out.push(r.message);
  for (const r of redisRules) if (!r.check(spec.redis)) out.push(r.message);
  for (const r of authRules) if (spec.auth && !r.check(spec.auth)) out.push(r.message);
  out.push(...namespacesViolations(spec));
  return out;
}

/** Parses a RealtimeGateway read from the API. Never throws: an invalid one comes back with a readable reason. */
export function parseRealtimeGateway(raw: unknown): ParsedGateway {
  const obj = z
    .looseObject({ metadata: metaSchema, spec: z.unknown().optional(), status: z.unknown().optional() })
    .safeParse(raw);
  if (!obj.success) return { ok: false, metadata: undefined, message: oneLine(z.prettifyError(obj.error)) };
  const metadata = obj.data.metadata as ObjectMeta;
  const spec = realtimeGatewaySpecSchema.safeParse(obj.data.spec ?? {});
  if (!spec.success) {
    return {
      ok: false,
      metadata,
      message: `invalid spec: ${z.prettifyError(spec.error).replaceAll("\n", "; ")}`,
    };
  }
  const violations = celViolations(spec.data);
  if (violations.length > 0)
    return { ok: false, metadata, message: `invalid spec: ${violations.join("; ")}` };
  // Status is written by us and the autoscaler; a malformed one is dropped, not fatal.
  const status = realtimeGatewayStatusSchema.safeParse(obj.data.status ?? {});
  return {
    ok: true,
    gateway: {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata,
      spec: spec.data,
      status: status.success ? status.data : {},
    },
  };
}
