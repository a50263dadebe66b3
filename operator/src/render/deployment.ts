// The gateway Deployment. Lifecycle: on scale-down or rollout the pod leaves the endpoints, sleeps PRE_STOP_SECONDS
// so every proxy notices, then gets SIGTERM and drains its clients over spec.drain.seconds; the grace period covers
// both plus headroom, so the kubelet never SIGKILLs a pod mid-drain.
import { createHash } from "node:crypto";
import type { RealtimeGateway, SecretKeyRef } from "../api/realtimegateway.js";
import { configFileText, configFileVolumes } from "./config-file.js";
import { GATEWAY_PORT, gatewayConfig, METRICS_PORT, TLS_MOUNT_PATH } from "./configmap.js";
import { ADMIN_SECRET_KEY, commonLabels, names, selectorLabels } from "./labels.js";
import { ownedMetadata } from "./metadata.js";
import { rolloutPacing } from "./rollout-pacing.js";

export const PRE_STOP_SECONDS = 5;
export const GRACE_HEADROOM_SECONDS = 10;
export const CONFIG_HASH_ANNOTATION = "rtgw.dev/config-hash";
export const CONTAINER_NAME = "gateway";
/** The gateway image's non-root user and group (Dockerfile USER), also the pods' fsGroup. */
export const GATEWAY_UID = 1000;

const DEFAULT_RESOURCES = {
  requests: { cpu: "250m", memory: "256Mi" },
  limits: { memory: "1Gi" },
};

export function terminationGracePeriodSeconds(gw: RealtimeGateway): number {
  return PRE_STOP_SECONDS + gw.spec.drain.seconds + GRACE_HEADROOM_SECONDS;
}

/**
 * Changes whenever the ConfigMaps' data does, so pods roll: envFrom is read only at container start, and the
 * gateway reads RTGW_CONFIG's file once at start (no hot reload). Without a file, the hash is what it always was.
 */
export function configHash(gw: RealtimeGateway): string {
  const data = gatewayConfig(gw);
  const canonical = JSON.stringify(
    Object.keys(data)
      .sort()
      .map((k) => [k, data[k]]),
  );
  const hash = createHash("sha256").update(canonical);
  const file = configFileText(gw);
  if (file !== undefined) hash.update(file);
  return hash.digest("hex").slice(0, 16);
}

function secretEnv(name: string, ref: SecretKeyRef) {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

function env(gw: RealtimeGateway) {
  const out: object[] = [{ name: "RTGW_NODE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }];
  if (gw.spec.redis.secretRef) out.push(secretEnv("RTGW_REDIS_URL", gw.spec.redis.secretRef));
  if (gw.spec.auth?.jwtSecretRef) out.push(secretEnv("RTGW_JWT_SECRET", gw.spec.auth.jwtSecretRef));
  // Two credentials: backends publish with RTGW_API_KEY (a Secret the user owns); the operator alone holds
  // RTGW_ADMIN_KEY for /admin/* on the internal port (shed when rebalancing), created before the pods.
  if (gw.spec.apiKeySecretRef) out.push(secretEnv("RTGW_API_KEY", gw.spec.apiKeySecretRef));
  out.push(secretEnv("RTGW_ADMIN_KEY", { name: names.adminSecret(gw), key: ADMIN_SECRET_KEY }));
  return out;
}

function topologySpread(gw: RealtimeGateway) {
  return ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    // Spread is a preference: a one-node dev cluster must still schedule every replica.
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selectorLabels(gw) },
    matchLabelKeys: ["pod-template-hash"],
  }));
}

export function renderDeployment(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  const labels = commonLabels(gw);
  const tls = gw.spec.tls;
  // With TLS the client port speaks only TLS: the kubelet probes it over HTTPS (it does not verify certificates).
  const scheme = tls ? { scheme: "HTTPS" } : {};
  const file = configFileVolumes(gw);
  const pacing = rolloutPacing({ replicas: gw.spec.replicas, drainSeconds: gw.spec.drain.seconds });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: ownedMetadata(gw, names.deployment(gw)),
    spec: {
      replicas: gw.spec.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(gw) },
      // Rollouts go in waves one drain window apart (rollout-pacing.ts), never below the current capacity.
      minReadySeconds: pacing.minReadySeconds,
      progressDeadlineSeconds: pacing.progressDeadlineSeconds,
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: pacing.maxUnavailable, maxSurge: pacing.maxSurge },
      },
      template: {
        metadata: {
          labels,
          annotations: {
            [CONFIG_HASH_ANNOTATION]: configHash(gw),
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(METRICS_PORT),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: terminationGracePeriodSeconds(gw),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: GATEWAY_UID, // the image's USER (Dockerfile)
            runAsGroup: GATEWAY_UID,
            // The Secret volumes' files are root:<fsGroup>: without it a group-only mode (the TLS key's 0440)
            // is root:root and the non-root gateway cannot read its own key. OnRootMismatch: no recursive
            // chown of volumes that already match at every start.
            fsGroup: GATEWAY_UID,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
          },
          topologySpreadConstraints: topologySpread(gw),
          containers: [
            {
              name: CONTAINER_NAME,
              image: gw.spec.image,
              args: ["gateway"],
              ports: [
                { name: "http", containerPort: GATEWAY_PORT, protocol: "TCP" },
                { name: "metrics", containerPort: METRICS_PORT, protocol: "TCP" },
              ],
              envFrom: [{ configMapRef: { name: names.configMap(gw) } }],
              env: env(gw),
              resources: gw.spec.resources ?? DEFAULT_RESOURCES,
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http", ...scheme },
                periodSeconds: 2,
                failureThreshold: 1,
                timeoutSeconds: 1,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "http", ...scheme },
                periodSeconds: 10,
                failureThreshold: 3,
                timeoutSeconds: 2,
              },
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                ...(tls ? [{ name: "tls", mountPath: TLS_MOUNT_PATH, readOnly: true }] : []),
                ...file.mounts,
              ],
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            // 0440: the key is readable by the gateway's group (the fsGroup) only, not by every user in the pod.
            ...(tls ? [{ name: "tls", secret: { secretName: tls.secretName, defaultMode: 0o440 } }] : []),
            ...file.volumes,
          ],
        },
      },
    },
  };
}
