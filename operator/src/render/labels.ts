// Labels, names and owner references shared by every owned object. The selector is a stable subset of the labels:
// changing it would orphan pods (a Deployment's selector is immutable), so it never includes the version or image.
import { API_VERSION, KIND, type RealtimeGateway } from "../api/realtimegateway.js";

export const APP_NAME = "realtime-gateway";
export const FIELD_MANAGER = "rtgw-operator";

export function selectorLabels(gw: RealtimeGateway): Record<string, string> {
  return { "app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": gw.metadata.name };
}

export function commonLabels(gw: RealtimeGateway): Record<string, string> {
  return {
    ...selectorLabels(gw),
    "app.kubernetes.io/component": "gateway",
    "app.kubernetes.io/part-of": APP_NAME,
    "app.kubernetes.io/managed-by": FIELD_MANAGER,
  };
}

/** The selector as the string the scale subresource publishes in status.selector. */
export function selectorString(gw: RealtimeGateway): string {
  return Object.entries(selectorLabels(gw))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export function ownerReference(gw: RealtimeGateway): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: gw.metadata.name,
    uid: gw.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export const names = {
  deployment: (gw: RealtimeGateway) => gw.metadata.name,
  service: (gw: RealtimeGateway) => gw.metadata.name,
  headlessService: (gw: RealtimeGateway) => `${gw.metadata.name}-pods`,
  podDisruptionBudget: (gw: RealtimeGateway) => gw.metadata.name,
  configMap: (gw: RealtimeGateway) => `${gw.metadata.name}-config`,
  /** The RTGW_CONFIG file (namespaces, hooks), only when the spec sets them (render/config-file.ts). */
  configFile: (gw: RealtimeGateway) => `${gw.metadata.name}-config-file`,
  networkPolicy: (gw: RealtimeGateway) => gw.metadata.name,
  ingress: (gw: RealtimeGateway) => gw.metadata.name,
  /** Holds RTGW_ADMIN_KEY (key `api-key`): the reconciler creates it once (render/admin-secret.ts); the autoscaler reads it. */
  adminSecret: (gw: RealtimeGateway) => `${gw.metadata.name}-admin`,
};
export const ADMIN_SECRET_KEY = "api-key";
