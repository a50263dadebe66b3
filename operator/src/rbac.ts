// Every API call the operator (and the autoscaling controller it runs) makes, as RBAC rules. The chart's ClusterRole
// is generated from / tested against this list, so a new call cannot ship without its permission.
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const OPERATOR_RULES: PolicyRule[] = [
  // The CR: informer (list/watch), status read-modify-write, scale by the autoscaler.
  { apiGroups: ["rtgw.dev"], resources: ["realtimegateways"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["rtgw.dev"], resources: ["realtimegateways/status"], verbs: ["get", "update", "patch"] },
  { apiGroups: ["rtgw.dev"], resources: ["realtimegateways/scale"], verbs: ["get", "update", "patch"] },
  // Owned objects: informers + server-side apply (patch; create is what an apply of a new object needs).
  { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch", "create", "patch"] },
  {
    apiGroups: [""],
    resources: ["services", "configmaps"],
    verbs: ["get", "list", "watch", "create", "patch"],
  },
  {
    apiGroups: ["policy"],
    resources: ["poddisruptionbudgets"],
    verbs: ["get", "list", "watch", "create", "patch"],
  },
  {
    apiGroups: ["networking.k8s.io"],
    resources: ["networkpolicies", "ingresses"],
    verbs: ["get", "list", "watch", "create", "patch"],
  },
  // Secrets: read by name only (get: the ones a RealtimeGateway references, the admin key's), never listed or watched,
  // so the operator cannot enumerate the cluster's Secrets; the reconciler creates the admin-key Secret (never
  // updates or deletes one: garbage collection does); the autoscaler gets its key.
  { apiGroups: [""], resources: ["secrets"], verbs: ["get", "create"] },
  // Pods: the autoscaler scrapes them and sets pod-deletion-cost.
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "patch"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
  // Leader election.
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
];
