// The status fields the autoscaler owns (desiredReplicas, connections, lastScaleTime, the Scaling condition), pure:
// the next status from the current one and a decision, or undefined when nothing changed meaningfully (connection
// counts move all the time; a write per pass would be a status PUT every few seconds). The reconciler's fields
// pass through untouched.
import { setCondition } from "../../api/conditions.js";
import { CONDITION_TYPES, type Condition } from "../../api/realtimegateway.js";
import type { ScalingDecision } from "./autoscaler.js";

/** The Scaling condition for a decision: True while the fleet is changing size. */
export function scalingCondition(
  d: ScalingDecision,
  readyReplicas: number | undefined,
  generation: number | undefined,
): Omit<Condition, "lastTransitionTime"> {
  const moving = d.desiredReplicas !== d.currentReplicas || (readyReplicas ?? 0) !== d.desiredReplicas;
  const reason =
    d.reason === "ScaleUp"
      ? "ScalingUp"
      : d.reason === "ScaleDown"
        ? "ScalingDown"
        : d.reason === "Steady"
          ? (d.limitedBy ?? (moving ? "WaitingForPods" : "Steady"))
          : d.reason;
  return {
    type: CONDITION_TYPES.Scaling,
    status: moving ? "True" : "False",
    reason,
    message: d.message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

export interface AutoscalingStatusInput {
  status: Record<string, unknown>;
  decision: ScalingDecision;
  lastScaleTime: string | undefined;
  generation: number | undefined;
  targetConnectionsPerPod: number;
  now: Date;
}

/** The new status, or undefined when nothing this controller owns changed meaningfully. */
export function nextAutoscalingStatus(i: AutoscalingStatusInput): Record<string, unknown> | undefined {
  const { status, decision: d, lastScaleTime } = i;
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
  const readyReplicas = typeof status.readyReplicas === "number" ? status.readyReplicas : undefined;
  const cond = scalingCondition(d, readyReplicas, i.generation);
  const had = conditions.find((c) => c.type === cond.type);
  const connections = d.metrics.totalConnections;
  const noise = Math.max(1, Math.floor(i.targetConnectionsPerPod / 100));
  const changed =
    status.desiredReplicas !== d.desiredReplicas ||
    typeof status.connections !== "number" ||
    Math.abs(status.connections - connections) >= noise ||
    (lastScaleTime !== undefined && status.lastScaleTime !== lastScaleTime) ||
    had?.status !== cond.status ||
    had?.reason !== cond.reason ||
    had?.observedGeneration !== cond.observedGeneration;
  if (!changed) return undefined;
  return {
    ...status,
    desiredReplicas: d.desiredReplicas,
    connections,
    ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
    conditions: setCondition(conditions, cond, i.now),
  };
}
