// The resources the operator lists and watches, named once: the RealtimeGateway, the kinds it owns, the Secrets it
// checks and the gateway pods the autoscaler reads.
import { API_VERSION, KIND, PLURAL } from "../api/realtimegateway.js";

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  plural: string;
}

export const GATEWAY_RESOURCE: ResourceRef = { apiVersion: API_VERSION, kind: KIND, plural: PLURAL };
/** Kinds the operator renders and owns, watched through one label so the caches hold only ours. */
export const OWNED_RESOURCES: ResourceRef[] = [
  { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments" },
  { apiVersion: "v1", kind: "Service", plural: "services" },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets" },
  { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", plural: "networkpolicies" },
  { apiVersion: "networking.k8s.io/v1", kind: "Ingress", plural: "ingresses" },
];
export const POD_RESOURCE: ResourceRef = { apiVersion: "v1", kind: "Pod", plural: "pods" };
