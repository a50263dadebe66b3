// The RealtimeGateway status this controller owns, pure: the Ready condition read from the Deployment's own status,
// and the next status (replicas, readyReplicas, selector, observedGeneration, Ready, Degraded) with the
// autoscaler's fields passed through. Compared before it is written, so an unchanged status is never rewritten.
import { conditionsEqual, setCondition } from "../../api/conditions.js";
import {
  CONDITION_TYPES,
  type Condition,
  type RealtimeGateway,
  type RealtimeGatewayStatus,
} from "../../api/realtimegateway.js";
import type { KubeObject } from "../../runtime/kube.js";

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
