// The non-secret gateway configuration as RTGW_* variables. Secrets are referenced from the pod (secretKeyRef),
// never copied here.
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { CONFIG_FILE_PATH, hasConfigFile } from "./config-file.js";
import { names } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

export const GATEWAY_PORT = 8080;
export const METRICS_PORT = 9090;
/** Where the pods mount spec.tls's Secret (render/deployment.ts). */
export const TLS_MOUNT_PATH = "/etc/rtgw/tls";

export function gatewayConfig(gw: RealtimeGateway): Record<string, string> {
  const { spec } = gw;
  const data: Record<string, string> = {
    RTGW_PORT: String(GATEWAY_PORT),
    RTGW_METRICS_PORT: String(METRICS_PORT),
    RTGW_BROKER: "redis",
    RTGW_AUTH: spec.auth ? "jwt" : "none",
    RTGW_DRAIN_SECONDS: String(spec.drain.seconds),
    RTGW_MAX_CONNECTIONS: String(spec.limits.maxConnectionsPerPod),
    RTGW_MAX_MESSAGE_BYTES: String(spec.limits.maxMessageBytes),
  };
  // A URL in the spec is by contract credential-free (credentials go through redis.secretRef).
  if (spec.redis.url !== undefined) data.RTGW_REDIS_URL = spec.redis.url;
  // A public URL, not a credential: the keys it serves are public keys.
  if (spec.auth?.jwksUrl) data.RTGW_JWT_JWKS_URL = spec.auth.jwksUrl;
  if (spec.auth?.issuer) data.RTGW_JWT_ISSUER = spec.auth.issuer;
  if (spec.auth?.audience) data.RTGW_JWT_AUDIENCE = spec.auth.audience.join(",");
  if (spec.allowedOrigins) data.RTGW_ALLOWED_ORIGINS = spec.allowedOrigins.join(",");
  // A path only: the namespaces and hooks are a file of their own (render/config-file.ts).
  if (hasConfigFile(gw)) data.RTGW_CONFIG = CONFIG_FILE_PATH;
  // Paths only: the certificate and key stay in their Secret, mounted read-only.
  if (spec.tls) {
    data.RTGW_TLS_CERT_FILE = `${TLS_MOUNT_PATH}/tls.crt`;
    data.RTGW_TLS_KEY_FILE = `${TLS_MOUNT_PATH}/tls.key`;
  }
  return data;
}

export function renderConfigMap(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMetadata(gw, names.configMap(gw)),
    data: gatewayConfig(gw),
  };
}
