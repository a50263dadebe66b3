// Validation of rendered objects against the upstream Kubernetes OpenAPI schemas (kubernetes-models carries them,
// compiled) and of custom resources against their CRD's structural schema, the way the API server checks them:
// defaults applied, unknown fields found (the server would prune them silently), CEL rules evaluated.

import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { evaluate } from "@marcbachmann/cel-js";
import { Ajv } from "ajv";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { KubeObject } from "./helm.js";
import { FieldChecker, type KindType } from "./kube-fields.js";

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/**
 * Every kind the chart may render, by apiVersion and kind: its compiled schema, and the module and interface of its
 * type (for the unknown-field walk). A kind missing here fails the test that meets it.
 */
const KINDS: Record<string, { model: ModelClass } & KindType> = {
  "v1/Secret": { model: Secret, module: "kubernetes-models/v1/Secret", type: "ISecret" },
  "v1/Service": { model: Service, module: "kubernetes-models/v1/Service", type: "IService" },
  "v1/ServiceAccount": {
    model: ServiceAccount,
    module: "kubernetes-models/v1/ServiceAccount",
    type: "IServiceAccount",
  },
  "apps/v1/Deployment": {
    model: Deployment,
    module: "kubernetes-models/apps/v1/Deployment",
    type: "IDeployment",
  },
  "apps/v1/StatefulSet": {
    model: StatefulSet,
    module: "kubernetes-models/apps/v1/StatefulSet",
    type: "IStatefulSet",
  },
  "networking.k8s.io/v1/NetworkPolicy": {
    model: NetworkPolicy,
    module: "kubernetes-models/networking.k8s.io/v1/NetworkPolicy",
    type: "INetworkPolicy",
  },
  "policy/v1/PodDisruptionBudget": {
    model: PodDisruptionBudget,
    module: "kubernetes-models/policy/v1/PodDisruptionBudget",
    type: "IPodDisruptionBudget",
  },
  "rbac.authorization.k8s.io/v1/ClusterRole": {
    model: ClusterRole,
    module: "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole",
    type: "IClusterRole",
  },
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": {
    model: ClusterRoleBinding,
    module: "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding",
    type: "IClusterRoleBinding",
  },
  "rbac.authorization.k8s.io/v1/Role": {
    model: Role,
    module: "kubernetes-models/rbac.authorization.k8s.io/v1/Role",
    type: "IRole",
  },
  "rbac.authorization.k8s.io/v1/RoleBinding": {
    model: RoleBinding,
    module: "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding",
    type: "IRoleBinding",
  },
  "apiextensions.k8s.io/v1/CustomResourceDefinition": {
    model: CustomResourceDefinition,
    module: "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition",
    type: "ICustomResourceDefinition",
  },
  "monitoring.coreos.com/v1/ServiceMonitor": {
    model: ServiceMonitor,
    module: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
    type: "IServiceMonitor",
  },
  "monitoring.coreos.com/v1/PodMonitor": {
    model: PodMonitor,
    module: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor",
    type: "IPodMonitor",
  },
};

let fields: FieldChecker | undefined;

/**
 * Throws with the schema's message when the object does not validate against its kind's upstream schema, has a
 * field that schema does not declare, or is of a kind without a known schema.
 */
export function validateUpstream(obj: KubeObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const kind = KINDS[key];
  if (!kind) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind} (${obj.metadata.name})`);
  try {
    new kind.model(structuredClone(obj) as never).validate();
  } catch (err) {
    throw new Error(`${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
  }
  fields ??= new FieldChecker(KINDS);
  const unknown = fields.unknownFields(key, obj);
  if (unknown.length > 0)
    throw new Error(`${obj.kind} ${obj.metadata.name}: unknown fields ${unknown.join(", ")}`);
}

/** OpenAPI's numeric and string formats: bounds come from minimum/maximum, so the formats only need to be known. */
const OPENAPI_FORMATS = {
  int32: true,
  int64: true,
  float: true,
  double: true,
  byte: true,
  "date-time": true,
} as const;

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
};

/** Fields the structural schema does not declare: the API server would drop them without a word. */
function unknownFields(schema: Schema, data: unknown, path: string, out: string[]): void {
  if (schema["x-kubernetes-preserve-unknown-fields"]) return;
  if (Array.isArray(data)) {
    const items = schema.items;
    if (items) for (const [i, d] of data.entries()) unknownFields(items, d, `${path}[${i}]`, out);
    return;
  }
  if (data === null || typeof data !== "object") return;
  for (const [key, value] of Object.entries(data)) {
    const sub = schema.properties?.[key];
    if (sub) unknownFields(sub, value, `${path}.${key}`, out);
    else if (typeof schema.additionalProperties === "object")
      unknownFields(schema.additionalProperties, value, `${path}.${key}`, out);
    else if (schema.additionalProperties !== true) out.push(`${path}.${key}`);
  }
}

/** Evaluates every x-kubernetes-validations rule with `self` bound to the (defaulted) value it sits on. */
function celFailures(schema: Schema, data: unknown, path: string, out: string[]): void {
  if (data === undefined || data === null) return;
  for (const { rule, message } of schema["x-kubernetes-validations"] ?? []) {
    if (evaluate(rule, { self: data }) !== true) out.push(`${path}: ${message ?? rule}`);
  }
  if (Array.isArray(data)) {
    const items = schema.items;
    if (items) for (const [i, d] of data.entries()) celFailures(items, d, `${path}[${i}]`, out);
  } else if (typeof data === "object") {
    for (const [key, value] of Object.entries(data)) {
      const sub =
        schema.properties?.[key] ??
        (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
      if (sub) celFailures(sub, value, `${path}.${key}`, out);
    }
  }
}

/**
 * Checks a custom resource against the openAPIV3Schema of the CRD version it names: types and bounds (ajv, with
 * the schema's defaults applied first, as the API server does), unknown fields, then the CEL rules.
 * Returns the problems found (empty when the API server would accept the object as written).
 */
export function customResourceProblems(crd: KubeObject, obj: KubeObject): string[] {
  const spec = crd.spec as {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
  const [group, version] = obj.apiVersion.split("/");
  if (group !== spec.group || obj.kind !== spec.names.kind)
    return [`${obj.apiVersion} ${obj.kind} is not this CRD's`];
  const schema = spec.versions.find((v) => v.name === version)?.schema.openAPIV3Schema;
  if (!schema) return [`the CRD has no version ${version}`];
  // strict: false lets ajv pass over the x-kubernetes-* extensions; useDefaults mirrors API-server defaulting.
  const ajv = new Ajv({ strict: false, useDefaults: true, allErrors: true, formats: OPENAPI_FORMATS });
  const data = structuredClone(obj);
  const problems: string[] = [];
  if (!ajv.validate(schema, data)) {
    for (const e of ajv.errors ?? []) problems.push(`${e.instancePath || "/"} ${e.message ?? ""}`);
  }
  const withoutMeta = { ...data, metadata: {} };
  unknownFields(schema, withoutMeta, "", problems);
  if (problems.length === 0) celFailures(schema, data, "", problems);
  return problems;
}
