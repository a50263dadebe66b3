// The e2e scenarios: ramp clients up, hold with a continuous publish stream, roll every pod to a new image at
// that full load, ramp down to a quarter, let the autoscaler bring the fleet back down. `full` is `make e2e`; `small` runs inside `make test`.

export interface Scenario {
  name: string;
  target: number;
  minReplicas: number;
  maxReplicas: number;
  /** Client connections at the peak, split evenly over `processes` client processes. */
  peak: number;
  processes: number;
  rampSeconds: number;
  holdSeconds: number;
  rampDownSeconds: number;
  /** How long to wait for the fleet to settle after the ramp-down. */
  settleSeconds: number;
  channels: number;
  publishPerSecond: number;
  drainSeconds: number;
  scaleDownStabilizationSeconds: number;
  scaleDownPods: number;
  scaleDownPeriodSeconds: number;
  autoscalerIntervalSeconds: number;
  rebalanceSustainSeconds: number;
  rebalanceRoundSeconds: number;
  rebalanceSpreadFraction: number;
  rebalanceMaxShedFraction: number;
  /** Bound on the rolling deploy at full load (after the hold), and how long to stay at full load after it. */
  rolloutTimeoutSeconds: number;
  rolloutSettleSeconds: number;
  /** Hard bound on the whole run. */
  timeLimitSeconds: number;
}

export const SCENARIOS: Record<string, Scenario> = {
  full: {
    name: "full",
    target: 10_000,
    minReplicas: 2,
    maxReplicas: 10,
    peak: 62_000,
    processes: 4,
    rampSeconds: 100,
    holdSeconds: 60,
    rampDownSeconds: 20,
    settleSeconds: 200,
    channels: 200,
    publishPerSecond: 40,
    drainSeconds: 20,
    scaleDownStabilizationSeconds: 30,
    scaleDownPods: 1,
    scaleDownPeriodSeconds: 20,
    autoscalerIntervalSeconds: 3,
    rebalanceSustainSeconds: 15,
    rebalanceRoundSeconds: 6,
    rebalanceSpreadFraction: 0.15,
    rebalanceMaxShedFraction: 0.1,
    // Waves of one pod (10 % of 6-7 replicas, rounded up), one drain window apart: ≈ 7 × (20 s + start) + the
    // last drain.
    rolloutTimeoutSeconds: 300,
    rolloutSettleSeconds: 5,
    timeLimitSeconds: 760,
  },
  small: {
    name: "small",
    target: 1_000,
    minReplicas: 1,
    maxReplicas: 6,
    peak: 3_000,
    processes: 2,
    rampSeconds: 12,
    holdSeconds: 20,
    rampDownSeconds: 4,
    settleSeconds: 75,
    channels: 20,
    publishPerSecond: 20,
    // Rollouts go in waves one drain window apart (operator/src/render/rollout-pacing.ts), one pod at a time here:
    // a 12 s window keeps the 3-4 waves (≈ 4 × 14 s + the last drain) and the scale-downs' drains short, and is
    // still long next to the 5 s reconnect jitter, so consecutive waves' reconnects join into a plateau.
    drainSeconds: 12,
    scaleDownStabilizationSeconds: 8,
    scaleDownPods: 1,
    scaleDownPeriodSeconds: 6,
    autoscalerIntervalSeconds: 1,
    rebalanceSustainSeconds: 4,
    rebalanceRoundSeconds: 2,
    rebalanceSpreadFraction: 0.15,
    rebalanceMaxShedFraction: 0.15,
    rolloutTimeoutSeconds: 120,
    rolloutSettleSeconds: 3,
    timeLimitSeconds: 250,
  },
};

export function expectedReplicas(s: Scenario, connections: number): number {
  return Math.max(s.minReplicas, Math.min(s.maxReplicas, Math.ceil(connections / s.target)));
}
