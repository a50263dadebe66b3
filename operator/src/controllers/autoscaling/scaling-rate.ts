// Steps 3 and 4 of the autoscaling policy (autoscaler.ts), after HPA's convertDesiredReplicasWithBehaviorRate:
// how far the Pods/Percent policies let the count move now, counted from the scale events of each policy's period,
// then the min/max bounds; and the scale events kept for that count. Pure.
import type { AutoscalerSpec, ScaleEvent, ScalingHistory, ScalingLimit, ScalingRules } from "./autoscaler.js";

function changedWithin(events: readonly ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let pods = 0;
  for (const e of events) if (e.at > cutoff) pods += e.pods;
  return pods;
}

/** How many replicas there were `periodSeconds` ago: now, minus what was added since, plus what was removed. */
function replicasAtPeriodStart(
  currentReplicas: number,
  history: ScalingHistory,
  periodSeconds: number,
  now: number,
): number {
  return (
    currentReplicas -
    changedWithin(history.scaleUps, periodSeconds, now) +
    changedWithin(history.scaleDowns, periodSeconds, now)
  );
}

/** The most replicas the scale-up policies allow now (HPA calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimit(
  currentReplicas: number,
  history: ScalingHistory,
  rules: ScalingRules,
  now: number,
) {
  if (rules.selectPolicy === "Disabled" || rules.policies.length === 0) return currentReplicas;
  const pick = rules.selectPolicy === "Min" ? Math.min : Math.max;
  let result = rules.selectPolicy === "Min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const p of rules.policies) {
    const periodStart = replicasAtPeriodStart(currentReplicas, history, p.periodSeconds, now);
    const proposed =
      p.type === "Pods" ? periodStart + p.value : Math.ceil((periodStart * (100 + p.value)) / 100);
    result = pick(result, proposed);
  }
  return Math.max(result, currentReplicas);
}

/** The fewest replicas the scale-down policies allow now (HPA calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimit(
  currentReplicas: number,
  history: ScalingHistory,
  rules: ScalingRules,
  now: number,
) {
  if (rules.selectPolicy === "Disabled" || rules.policies.length === 0) return currentReplicas;
  // "Max" = the policy allowing the biggest change = the lowest count.
  const pick = rules.selectPolicy === "Min" ? Math.max : Math.min;
  let result = rules.selectPolicy === "Min" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const p of rules.policies) {
    const periodStart = replicasAtPeriodStart(currentReplicas, history, p.periodSeconds, now);
    const proposed =
      p.type === "Pods" ? periodStart - p.value : Math.floor((periodStart * (100 - p.value)) / 100);
    result = pick(result, proposed);
  }
  return Math.min(result, currentReplicas);
}

export function limitRate(
  desired: number,
  currentReplicas: number,
  history: ScalingHistory,
  spec: AutoscalerSpec,
  now: number,
): { replicas: number; limitedBy: ScalingLimit | undefined } {
  if (desired > currentReplicas) {
    const upLimit = scaleUpLimit(currentReplicas, history, spec.scaleUp, now);
    const [max, why]: [number, ScalingLimit] =
      spec.maxReplicas > upLimit ? [upLimit, "ScaleUpLimit"] : [spec.maxReplicas, "TooManyReplicas"];
    if (desired > max) return { replicas: max, limitedBy: why };
  } else if (desired < currentReplicas) {
    const downLimit = scaleDownLimit(currentReplicas, history, spec.scaleDown, now);
    const [min, why]: [number, ScalingLimit] =
      spec.minReplicas < downLimit ? [downLimit, "ScaleDownLimit"] : [spec.minReplicas, "TooFewReplicas"];
    if (desired < min) return { replicas: min, limitedBy: why };
  }
  return { replicas: desired, limitedBy: undefined };
}

function longestPeriod(rules: ScalingRules): number {
  return rules.policies.reduce((m, p) => Math.max(m, p.periodSeconds), 0);
}

/** Record a scale from `from` to `to` at `now`, forgetting events older than any policy period. */
export function recordScale(
  history: ScalingHistory,
  spec: AutoscalerSpec,
  from: number,
  to: number,
  now: number,
) {
  const upCutoff = now - longestPeriod(spec.scaleUp) * 1000;
  const downCutoff = now - longestPeriod(spec.scaleDown) * 1000;
  const scaleUps = history.scaleUps.filter((e) => e.at > upCutoff);
  const scaleDowns = history.scaleDowns.filter((e) => e.at > downCutoff);
  if (to > from) scaleUps.push({ at: now, pods: to - from });
  if (to < from) scaleDowns.push({ at: now, pods: from - to });
  return { ...history, scaleUps, scaleDowns };
}
