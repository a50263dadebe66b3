// The CR's autoscaling block in the autoscaler's terms (HPA: each direction a list of Pods and/or Percent
// policies, selectPolicy Max). Pure.
import type { RealtimeGatewaySpec } from "../../api/realtimegateway.js";
import {
  type AutoscalerSpec,
  DEFAULT_SCALE_UP_POLICIES,
  HPA_SCALE_DOWN_POLICIES,
  type ScalingPolicy,
} from "./autoscaler.js";

export function autoscalerSpec(a: RealtimeGatewaySpec["autoscaling"]): AutoscalerSpec {
  // A rule with neither pods nor percent (e.g. only periodSeconds set) falls back to HPA's default policies for
  // that direction, with its period: HPA itself rejects a rule without policies.
  const policies = (
    p: { pods?: number | undefined; percent?: number | undefined; periodSeconds: number },
    fallback: readonly ScalingPolicy[],
  ) => {
    const out: ScalingPolicy[] = [];
    if (p.pods !== undefined) out.push({ type: "Pods", value: p.pods, periodSeconds: p.periodSeconds });
    if (p.percent !== undefined)
      out.push({ type: "Percent", value: p.percent, periodSeconds: p.periodSeconds });
    return out.length > 0 ? out : fallback.map((f) => ({ ...f, periodSeconds: p.periodSeconds }));
  };
  return {
    minReplicas: a.minReplicas,
    maxReplicas: a.maxReplicas,
    targetConnectionsPerPod: a.targetConnectionsPerPod,
    tolerance: a.tolerance,
    scaleUp: {
      stabilizationWindowSeconds: a.scaleUpStabilizationSeconds,
      selectPolicy: "Max",
      policies: policies(a.scaleUp, DEFAULT_SCALE_UP_POLICIES),
    },
    scaleDown: {
      stabilizationWindowSeconds: a.scaleDownStabilizationSeconds,
      selectPolicy: "Max",
      policies: policies(a.scaleDown, HPA_SCALE_DOWN_POLICIES),
    },
  };
}
