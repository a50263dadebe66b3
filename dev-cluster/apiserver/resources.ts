// The kinds the fake API server serves: enough discovery for client-node's KubernetesObjectApi, plus which kinds
// have status / scale subresources (that decides whether a write to the main resource may touch status), with the
// short names and categories a real cluster's discovery gives them (`kubectl get deploy,po,svc,ev`, `get all`).
// RBAC objects and ServiceAccounts are stored like any other: the dev cluster's authorizer (rbac.ts) reads them.
import type { JsonObject } from "./fieldset.js";

export interface ResourceType {
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  status: boolean;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  shortNames?: string[];
  /** Discovery categories (`kubectl get all` is the "all" category). */
  categories?: string[];
  /** A CRD version's additionalPrinterColumns (built-in kinds' columns are in printers.ts). */
  printerColumns?: PrinterColumn[];
  /** A CRD version's openAPIV3Schema, served in /openapi/v2 and /openapi/v3. */
  schema?: JsonObject;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

export const RESOURCE_TYPES: ResourceType[] = [
  {
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    singular: "configmap",
    namespaced: true,
    status: false,
    shortNames: ["cm"],
  },
  {
    group: "",
    version: "v1",
    kind: "Secret",
    plural: "secrets",
    singular: "secret",
    namespaced: true,
    status: false,
  },
  {
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    singular: "service",
    namespaced: true,
    status: true,
    shortNames: ["svc"],
    categories: ["all"],
  },
  {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    singular: "pod",
    namespaced: true,
    status: true,
    shortNames: ["po"],
    categories: ["all"],
  },
  {
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    singular: "event",
    namespaced: true,
    status: false,
    shortNames: ["ev"],
  },
  {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    singular: "namespace",
    namespaced: false,
    status: true,
    shortNames: ["ns"],
  },
  {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    singular: "deployment",
    namespaced: true,
    status: true,
    scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" },
    shortNames: ["deploy"],
    categories: ["all"],
  },
  {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    singular: "poddisruptionbudget",
    namespaced: true,
    status: true,
    shortNames: ["pdb"],
  },
  {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    singular: "networkpolicy",
    namespaced: true,
    status: false,
  },
  {
    group: "networking.k8s.io",
    version: "v1",
    kind: "Ingress",
    plural: "ingresses",
    singular: "ingress",
    namespaced: true,
    status: true,
  },
  {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    singular: "lease",
    namespaced: true,
    status: false,
  },
  {
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    singular: "serviceaccount",
    namespaced: true,
    status: false,
    shortNames: ["sa"],
  },
  ...(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"] as const).map(
    (kind): ResourceType => ({
      group: "rbac.authorization.k8s.io",
      version: "v1",
      kind,
      plural: `${kind.toLowerCase()}s`,
      singular: kind.toLowerCase(),
      namespaced: !kind.startsWith("Cluster"),
      status: false,
    }),
  ),
  {
    group: "events.k8s.io",
    version: "v1",
    kind: "Event",
    plural: "events",
    singular: "event",
    namespaced: true,
    status: false,
  },
];

export function apiVersionOf(t: ResourceType): string {
  return t.group === "" ? t.version : `${t.group}/${t.version}`;
}

export function basePath(t: ResourceType): string {
  return t.group === "" ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
}
