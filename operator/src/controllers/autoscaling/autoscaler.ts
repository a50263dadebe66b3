// The autoscaling policy: history + observations + spec + now → a decision. Pure, no I/O, no clock.
//
// It follows the Kubernetes HPA controller (pkg/controller/podautoscaler, autoscaling/v2 with `behavior`)
// applied to one AverageValue pods metric: connections per pod.
//   1. metric replicas (replica_calculator.go calcPlainMetricReplicas): desired = ceil(total / target) over
//      ready pods with a metric; a tolerance band; pods with a missing metric count as `target` when scaling
//      down and 0 when scaling up; not-ready pods are left out, and count as 0 if they would push a scale-up;
//      deleting pods are no capacity, but the connections they still hold are demand (they are draining to the
//      other pods): HPA drops a deleting pod's CPU because that load leaves with it; connections do not leave,
//      they move, and dropping them scaled the fleet down in the middle of every rolling update.
//   2. stabilization (stabilizeRecommendationWithBehaviors): the recommendation history; scale up to the
//      LOWEST recommendation of the up window, down to the HIGHEST of the down window.
//   3. rate (convertDesiredReplicasWithBehaviorRate): Pods/Percent policies per period, counted from the
//      scale events of that period; `Max` picks the policy allowing the most change, `Min` the least.
//   4. bounds: minReplicas/maxReplicas.

import { limitRate, recordScale } from "./scaling-rate.js";

export { recordScale, scaleDownLimit, scaleUpLimit } from "./scaling-rate.js";

export type ScalingPolicyType = "Pods" | "Percent";
export interface ScalingPolicy {
  type: ScalingPolicyType;
  value: number;
  periodSeconds: number;
}
export type SelectPolicy = "Max" | "Min" | "Disabled";
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: SelectPolicy;
  policies: readonly ScalingPolicy[];
}

export interface AutoscalerSpec {
  minReplicas: number;
  maxReplicas: number;
  targetConnectionsPerPod: number;
  /** No change while |usageRatio - 1| <= tolerance. */
  tolerance: number;
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** HPA's default scale-up behavior: double or add 4 pods every 15 s, whichever is more. */
export const DEFAULT_SCALE_UP_POLICIES: readonly ScalingPolicy[] = [
  { type: "Percent", value: 100, periodSeconds: 15 },
  { type: "Pods", value: 4, periodSeconds: 15 },
];
/** HPA's default scale-down behavior: up to all excess pods every 15 s (after the stabilization window). */
export const HPA_SCALE_DOWN_POLICIES: readonly ScalingPolicy[] = [
  { type: "Percent", value: 100, periodSeconds: 15 },
];
/**
 * A gentler scale-down for connection-heavy fleets (every removed pod sends all its clients to the others): at
 * most 1 pod or 10 % of the fleet (HPA rounding) per minute, so each drain lands before the next starts.
 */
export const DEFAULT_SCALE_DOWN_POLICIES: readonly ScalingPolicy[] = [
  { type: "Pods", value: 1, periodSeconds: 60 },
  { type: "Percent", value: 10, periodSeconds: 60 },
];

/** One gateway pod as the autoscaler sees it. */
export interface PodObservation {
  name: string;
  ready: boolean;
  /** Has a deletionTimestamp, or failed: its clients are leaving, it is not part of the fleet. */
  deleting: boolean;
  /** `rtgw_connections` scraped from the pod; undefined when the scrape failed. */
  connections: number | undefined;
}

export interface Recommendation {
  at: number;
  replicas: number;
}
export interface ScaleEvent {
  at: number;
  /** Pods added (scale-up) or removed (scale-down); always positive. */
  pods: number;
}
/** What the autoscaler remembers between decisions (the HPA controller keeps the same in memory). */
export interface ScalingHistory {
  recommendations: readonly Recommendation[];
  scaleUps: readonly ScaleEvent[];
  scaleDowns: readonly ScaleEvent[];
}
export const EMPTY_HISTORY: ScalingHistory = { recommendations: [], scaleUps: [], scaleDowns: [] };

/** Why the decided count differs from the metric's recommendation (HPA's AbleToScale/ScalingLimited reasons). */
export type ScalingLimit =
  | "ScaleUpStabilized"
  | "ScaleDownStabilized"
  | "ScaleUpLimit"
  | "ScaleDownLimit"
  | "TooManyReplicas"
  | "TooFewReplicas"
  /** A rolling update is replacing pods: no scale-down until it is over (see DecideInput.rollingUpdate). */
  | "RollingUpdate";

export type DecisionReason =
  /** desiredReplicas > currentReplicas */
  | "ScaleUp"
  | "ScaleDown"
  /** the metric asks for no change (within tolerance, or a limit holds the count) */
  | "Steady"
  /** no ready pod reported a metric: keep the current count */
  | "NoMetrics"
  /** spec.replicas is 0 while minReplicas > 0: the fleet is parked, autoscaling stands aside (as HPA) */
  | "ScalingDisabled";

export interface MetricSummary {
  totalConnections: number;
  /** Ready pods with a metric. */
  readyPods: number;
  missingPods: number;
  unreadyPods: number;
  deletingPods: number;
  /** Connections still on deleting pods (those that reported): moving to the others, so counted as demand. */
  leavingConnections: number;
  /** Mean connections per reporting pod over the target, leaving ones included; NaN without metrics. */
  usageRatio: number;
}

export interface ScalingDecision {
  currentReplicas: number;
  desiredReplicas: number;
  /** What the metric alone asks for (before stabilization, rate and bounds). */
  recommendation: number;
  /** After the stabilization window, before rate limits and bounds. */
  stabilized: number;
  reason: DecisionReason;
  limitedBy: ScalingLimit | undefined;
  metrics: MetricSummary;
  /** A sentence with the numbers behind the decision, for the Event and the Scaling condition. */
  message: string;
  /**
   * The history to keep when the count is not written (or its write failed): the recommendation is remembered
   * (stabilization), but no scale event, so a failed write never uses up a rate-limit period (HPA records the
   * event only after the scale update succeeded).
   */
  newHistory: ScalingHistory;
  /** The history to keep once the scale write succeeded: newHistory plus this scale's event. */
  historyAfterScale: ScalingHistory;
}

export interface DecideInput {
  history: ScalingHistory;
  pods: readonly PodObservation[];
  /** spec.replicas now. */
  currentReplicas: number;
  spec: AutoscalerSpec;
  /** Milliseconds since the epoch. */
  now: number;
  /**
   * Pods of two templates are live (a rolling update). Scale-downs wait for its end: clients between a close and
   * their reconnect are on no pod, so the demand dips by the share in flight, and a lower replica count lets the
   * Deployment delete another old pod at once, stacking its drain onto the current wave's (rollout-pacing.ts).
   * Scale-ups go ahead; the recommendations are still recorded, so the window judges the rollout's dip afterwards.
   */
  rollingUpdate?: boolean;
}

// ---- 1. metric replicas -------------------------------------------------------------------------

export function summarizeMetrics(pods: readonly PodObservation[], target: number): MetricSummary {
  let total = 0;
  let ready = 0;
  let missing = 0;
  let unready = 0;
  let deleting = 0;
  let leaving = 0;
  for (const pod of pods) {
    if (pod.deleting) {
      deleting++;
      leaving += pod.connections ?? 0;
    } else if (!pod.ready) unready++;
    else if (pod.connections === undefined) missing++;
    else {
      ready++;
      total += pod.connections;
    }
  }
  const usageRatio = ready > 0 ? (total + leaving) / ready / target : Number.NaN;
  return {
    totalConnections: total,
    readyPods: ready,
    missingPods: missing,
    unreadyPods: unready,
    deletingPods: deleting,
    leavingConnections: leaving,
    usageRatio,
  };
}

/**
 * HPA's calcPlainMetricReplicas for connections per pod. Returns undefined without any metric.
 * With every pod ready and reporting, this is ceil(total / target) outside the tolerance band.
 */
export function metricReplicas(
  m: MetricSummary,
  currentReplicas: number,
  target: number,
  tolerance: number,
): number | undefined {
  if (m.readyPods === 0) return undefined;
  const ratio = m.usageRatio;
  const withinTolerance = (r: number) => Math.abs(1 - r) <= tolerance;
  const scaleUpWithUnready = m.unreadyPods > 0 && ratio > 1;
  if (!scaleUpWithUnready && m.missingPods === 0) {
    if (withinTolerance(ratio)) return currentReplicas;
    // ceil(ratio * pods) = ceil(total / target), computed without the float detour
    return Math.ceil((m.totalConnections + m.leavingConnections) / target);
  }
  // Fill in the gaps conservatively: a missing pod is at target when we would scale down (so it does not
  // drive a scale-down) and empty when we would scale up; a not-ready pod is empty on a scale-up.
  let total = m.totalConnections + m.leavingConnections;
  let counted = m.readyPods;
  if (m.missingPods > 0) {
    if (ratio < 1) total += m.missingPods * target;
    counted += m.missingPods;
  }
  if (scaleUpWithUnready) counted += m.unreadyPods;
  const newRatio = total / counted / target;
  // Filling in must not flip the direction or land inside the band.
  if (withinTolerance(newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
    return currentReplicas;
  }
  const replicas = Math.ceil(total / target);
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas)) {
    return currentReplicas;
  }
  return replicas;
}

// ---- 2. stabilization ---------------------------------------------------------------------------

interface Stabilized {
  replicas: number;
  recommendations: Recommendation[];
}

function stabilize(
  history: readonly Recommendation[],
  recommendation: number,
  currentReplicas: number,
  spec: AutoscalerSpec,
  now: number,
): Stabilized {
  const upCutoff = now - spec.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - spec.scaleDown.stabilizationWindowSeconds * 1000;
  // Like HPA's maybeInitScaleDownStabilizationWindow: a fresh controller (e.g. after a failover) behaves as if
  // it had recommended the current count just now, so it does not scale down before a whole window passed.
  const past =
    history.length === 0 && spec.scaleDown.stabilizationWindowSeconds > 0
      ? [{ at: now, replicas: currentReplicas }]
      : history;
  let up = recommendation;
  let down = recommendation;
  for (const rec of past) {
    if (rec.at > upCutoff) up = Math.min(up, rec.replicas);
    if (rec.at > downCutoff) down = Math.max(down, rec.replicas);
  }
  let replicas = currentReplicas;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  const keepAfter = Math.min(upCutoff, downCutoff);
  const recommendations = past.filter((r) => r.at > keepAfter);
  recommendations.push({ at: now, replicas: recommendation });
  return { replicas, recommendations };
}

// ---- the decision -------------------------------------------------------------------------------

type Decided = Omit<ScalingDecision, "message" | "newHistory" | "historyAfterScale">;

function describe(d: Decided, target: number): string {
  const m = d.metrics;
  const seen =
    m.readyPods === 0
      ? "no ready pod reported rtgw_connections"
      : `${m.totalConnections} connections on ${m.readyPods} reporting pod(s)${m.leavingConnections > 0 ? ` and ${m.leavingConnections} moving off deleting ones` : ""} (target ${target}/pod, ratio ${m.usageRatio.toFixed(3)})`;
  const gaps = [
    m.missingPods > 0 ? `${m.missingPods} missing metric` : "",
    m.unreadyPods > 0 ? `${m.unreadyPods} not ready` : "",
    m.deletingPods > 0 ? `${m.deletingPods} deleting` : "",
  ].filter((s) => s !== "");
  const limit = d.limitedBy ? ` (limited: ${d.limitedBy})` : "";
  return `${seen}${gaps.length > 0 ? `; ${gaps.join(", ")}` : ""}; recommendation ${d.recommendation}, stabilized ${d.stabilized}; replicas ${d.currentReplicas} -> ${d.desiredReplicas}${limit}`;
}

function finish(d: Decided, history: ScalingHistory, spec: AutoscalerSpec, now: number): ScalingDecision {
  return {
    ...d,
    message: describe(d, spec.targetConnectionsPerPod),
    newHistory: history,
    historyAfterScale: recordScale(history, spec, d.currentReplicas, d.desiredReplicas, now),
  };
}

export function decide(input: DecideInput): ScalingDecision {
  const { spec, now, currentReplicas } = input;
  const metrics = summarizeMetrics(input.pods, spec.targetConnectionsPerPod);
  const base = { currentReplicas, metrics, limitedBy: undefined };

  if (currentReplicas === 0 && spec.minReplicas !== 0) {
    return finish(
      { ...base, desiredReplicas: 0, recommendation: 0, stabilized: 0, reason: "ScalingDisabled" },
      input.history,
      spec,
      now,
    );
  }
  // Outside the bounds (e.g. someone edited them): move into them first, as HPA does.
  if (currentReplicas > spec.maxReplicas || currentReplicas < spec.minReplicas) {
    const to = currentReplicas > spec.maxReplicas ? spec.maxReplicas : spec.minReplicas;
    return finish(
      {
        ...base,
        desiredReplicas: to,
        recommendation: to,
        stabilized: to,
        reason: to > currentReplicas ? "ScaleUp" : "ScaleDown",
        limitedBy: to > currentReplicas ? "TooFewReplicas" : "TooManyReplicas",
      },
      input.history,
      spec,
      now,
    );
  }

  const recommendation = metricReplicas(
    metrics,
    currentReplicas,
    spec.targetConnectionsPerPod,
    spec.tolerance,
  );
  if (recommendation === undefined) {
    return finish(
      {
        ...base,
        desiredReplicas: currentReplicas,
        recommendation: currentReplicas,
        stabilized: currentReplicas,
        reason: "NoMetrics",
      },
      input.history,
      spec,
      now,
    );
  }

  const stable = stabilize(input.history.recommendations, recommendation, currentReplicas, spec, now);
  let limitedBy: ScalingLimit | undefined;
  if (stable.replicas !== recommendation) {
    limitedBy = recommendation >= currentReplicas ? "ScaleUpStabilized" : "ScaleDownStabilized";
  }
  const rated = limitRate(stable.replicas, currentReplicas, input.history, spec, now);
  if (rated.limitedBy) limitedBy = rated.limitedBy;
  let desiredReplicas = rated.replicas;
  if (input.rollingUpdate === true && desiredReplicas < currentReplicas) {
    desiredReplicas = currentReplicas;
    limitedBy = "RollingUpdate";
  }

  const history: ScalingHistory = { ...input.history, recommendations: stable.recommendations };
  const reason: DecisionReason =
    desiredReplicas > currentReplicas
      ? "ScaleUp"
      : desiredReplicas < currentReplicas
        ? "ScaleDown"
        : "Steady";
  return finish(
    { ...base, desiredReplicas, recommendation, stabilized: stable.replicas, reason, limitedBy },
    history,
    spec,
    now,
  );
}
