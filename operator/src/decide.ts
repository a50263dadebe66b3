// The pure middle of a reconcile: from what the informers hold to what must be written. No I/O, table-tested.

import { createHash } from "node:crypto";
import { conditionsEqual, setCondition } from "./api/conditions.js";
import {
  CONDITION_TYPES,
  type Condition,
  type ParsedGateway,
  type RealtimeGateway,
  type RealtimeGatewayStatus,
  type SecretKeyRef,
} from "./api/realtimegateway.js";
import type { KubeObject } from "./kube.js";
import { type RenderedObject, renderAll } from "./render/index.js";
import { ADMIN_SECRET_KEY, names, selectorString } from "./render/labels.js";

export const APPLIED_HASH_ANNOTATION = "rtgw.dev/applied-hash";

/** What a referenced Secret looks like in the cache: its key names only, never the values. */
export interface SecretKeys {
  keys: string[];
}

export interface Observed {
  parsed: ParsedGateway;
  secret: (namespace: string, name: string) => SecretKeys | undefined;
  owned: (kind: string, namespace: string, name: string) => KubeObject | undefined;
}

export type Decision =
  | { kind: "invalid"; message: string }
  | { kind: "blocked"; reason: "SecretMissing" | "AdminSecretInvalid"; message: string }
  | {
      kind: "apply";
      gateway: RealtimeGateway;
      desired: RenderedObject[];
      changed: RenderedObject[];
      /** The admin-key Secret does not exist: create it (once; an existing one is never rewritten). */
      createAdminSecret: boolean;
    };

function secretProblems(gw: RealtimeGateway, secret: Observed["secret"]): string[] {
  const refs: [string, SecretKeyRef][] = [];
  if (gw.spec.redis.secretRef) refs.push(["redis.secretRef", gw.spec.redis.secretRef]);
  if (gw.spec.auth) refs.push(["auth.jwtSecretRef", gw.spec.auth.jwtSecretRef]);
  if (gw.spec.apiKeySecretRef) refs.push(["apiKeySecretRef", gw.spec.apiKeySecretRef]);
  if (gw.spec.tls) {
    refs.push(["tls.secretName", { name: gw.spec.tls.secretName, key: "tls.crt" }]);
    refs.push(["tls.secretName", { name: gw.spec.tls.secretName, key: "tls.key" }]);
  }
  const out: string[] = [];
  for (const [field, ref] of refs) {
    const s = secret(gw.metadata.namespace, ref.name);
    if (!s) out.push(`${field}: Secret ${gw.metadata.namespace}/${ref.name} not found`);
    else if (!s.keys.includes(ref.key))
      out.push(`${field}: Secret ${gw.metadata.namespace}/${ref.name} has no key "${ref.key}"`);
  }
  return out;
}

/** The rendered object with a hash of itself, so removing a field is noticed even though live ⊇ desired. */
export function withAppliedHash(obj: RenderedObject): RenderedObject {
  const hash = createHash("sha256").update(JSON.stringify(obj)).digest("hex").slice(0, 16);
  const annotations = {
    ...((obj.metadata as { annotations?: Record<string, string> }).annotations ?? {}),
    [APPLIED_HASH_ANNOTATION]: hash,
  };
  return { ...obj, metadata: { ...obj.metadata, annotations } as RenderedObject["metadata"] };
}

const QUANTITY_SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a resource quantity, or undefined for anything else. */
export function quantityValue(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(v);
  return m ? Number(m[1]) * QUANTITY_SUFFIX[m[2] ?? ""]! : undefined;
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // The API server canonicalizes quantities ("1000m" is stored as "1", "1024Mi" as "1Gi").
  const qa = quantityValue(a);
  const qb = quantityValue(b);
  if (qa !== undefined && qb !== undefined && typeof a === "string" && typeof b === "string") {
    return Math.abs(qa - qb) <= 1e-9 * Math.max(1, Math.abs(qa));
  }
  // int-or-string fields (ports, quantities) may come back in the other form.
  return (
    (typeof a === "number" || typeof a === "string") &&
    (typeof b === "number" || typeof b === "string") &&
    String(a) === String(b)
  );
}

/** True when every field of `desired` is present in `live` with the same value (the server may add defaults). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) && desired.length === live.length && desired.every((d, i) => isSubset(d, live[i]))
    );
  }
  if (desired !== null && typeof desired === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
    return Object.entries(desired).every(
      ([k, v]) => v === undefined || isSubset(v, (live as Record<string, unknown>)[k]),
    );
  }
  return sameScalar(desired, live);
}

export function needsApply(desired: RenderedObject, live: KubeObject | undefined): boolean {
  return live === undefined || !isSubset(desired, live);
}

export function decide(o: Observed): Decision {
  if (!o.parsed.ok) return { kind: "invalid", message: o.parsed.message };
  const gw = o.parsed.gateway;
  const problems = secretProblems(gw, o.secret);
  if (problems.length > 0) {
    return {
      kind: "blocked",
      reason: "SecretMissing",
      message: `${problems.join("; ")}; not rolling out until it exists`,
    };
  }
  // The admin key is ours: missing, we create it; present without its key, only a person can say why.
  const admin = o.secret(gw.metadata.namespace, names.adminSecret(gw));
  if (admin && !admin.keys.includes(ADMIN_SECRET_KEY)) {
    return {
      kind: "blocked",
      reason: "AdminSecretInvalid",
      message: `Secret ${gw.metadata.namespace}/${names.adminSecret(gw)} has no key "${ADMIN_SECRET_KEY}"; delete it and the operator creates a new one; not rolling out until then`,
    };
  }
  const desired = renderAll({ gateway: gw }).map(withAppliedHash);
  const changed = desired.filter((d) =>
    needsApply(d, o.owned(d.kind, d.metadata.namespace, d.metadata.name)),
  );
  return { kind: "apply", gateway: gw, desired, changed, createAdminSecret: admin === undefined };
}

interface DeploymentView {
  metadata: { generation?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
  };
}

/** The Ready condition from the Deployment's own status. */
export function readyCondition(
  gw: RealtimeGateway,
  deployment: KubeObject | undefined,
): Omit<Condition, "lastTransitionTime"> {
  const base = { type: CONDITION_TYPES.Ready, observedGeneration: gw.metadata.generation ?? 0 };
  const want = gw.spec.replicas;
  if (!deployment)
    return {
      ...base,
      status: "False",
      reason: "DeploymentMissing",
      message: "the Deployment does not exist yet",
    };
  const d = deployment as unknown as DeploymentView;
  const s = d.status ?? {};
  if (want === 0) return { ...base, status: "False", reason: "ScaledToZero", message: "spec.replicas is 0" };
  if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 0) || (s.updatedReplicas ?? 0) < want) {
    return {
      ...base,
      status: "False",
      reason: "RolloutInProgress",
      message: `${s.updatedReplicas ?? 0}/${want} pods updated`,
    };
  }
  if ((s.readyReplicas ?? 0) < want) {
    return {
      ...base,
      status: "False",
      reason: "ReplicasNotReady",
      message: `${s.readyReplicas ?? 0}/${want} pods ready`,
    };
  }
  return {
    ...base,
    status: "True",
    reason: "AllReplicasReady",
    message: `${s.readyReplicas}/${want} pods ready`,
  };
}

export interface StatusInput {
  current: RealtimeGatewayStatus | undefined;
  gateway: { generation: number; selector: string | undefined };
  deployment: KubeObject | undefined;
  ready: Omit<Condition, "lastTransitionTime">;
  degraded: { status: "True" | "False"; reason: string; message: string };
  now: Date;
}

/**
 * The next status: only the fields this controller owns change (replicas, readyReplicas, selector,
 * observedGeneration, Ready and Degraded); the autoscaler's fields and conditions pass through untouched.
 */
export function nextStatus(i: StatusInput): RealtimeGatewayStatus {
  const s: RealtimeGatewayStatus = { ...(i.current ?? {}) };
  const dep = i.deployment as unknown as DeploymentView | undefined;
  s.replicas = dep?.status?.replicas ?? 0;
  s.readyReplicas = dep?.status?.readyReplicas ?? 0;
  if (i.gateway.selector !== undefined) s.selector = i.gateway.selector;
  s.observedGeneration = i.gateway.generation;
  let conditions = setCondition(s.conditions, i.ready, i.now);
  conditions = setCondition(
    conditions,
    { type: CONDITION_TYPES.Degraded, observedGeneration: i.gateway.generation, ...i.degraded },
    i.now,
  );
  s.conditions = conditions;
  return s;
}

export function statusEqual(
  a: RealtimeGatewayStatus | undefined,
  b: RealtimeGatewayStatus | undefined,
): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const { conditions: cx, ...rx } = x;
  const { conditions: cy, ...ry } = y;
  return (
    JSON.stringify(Object.entries(rx).sort()) === JSON.stringify(Object.entries(ry).sort()) &&
    conditionsEqual(cx, cy)
  );
}

export { selectorString };
