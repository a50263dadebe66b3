// Rebalancing after a scale-up: WebSocket clients stay where they connected, so new pods start empty while the old
// ones stay full. When the fullest pod sits above the mean by more than a bound for a while, ask the fullest pods
// to shed a bounded number of clients (POST /admin/shed); those reconnect through the Service, which spreads them
// over every ready pod. Pure: state + observations + now → which pods shed how many.

export interface RebalanceSpec {
  /** Act when (fullest - mean) > max(minSpread, spreadFraction * targetConnectionsPerPod). */
  spreadFraction: number;
  minSpread: number;
  /** The spread must stay above the bound this long before the first shed (a ramp settles by itself). */
  sustainSeconds: number;
  /** At most one shed round per this many seconds, so each round's reconnects land before the next is judged. */
  roundSeconds: number;
  /** A pod sheds at most this fraction of its connections per round. */
  maxShedFraction: number;
  /** At most this many pods shed in one round. */
  maxPodsPerRound: number;
}

export const DEFAULT_REBALANCE: RebalanceSpec = {
  spreadFraction: 0.2,
  minSpread: 50,
  sustainSeconds: 30,
  roundSeconds: 10,
  maxShedFraction: 0.1,
  maxPodsPerRound: 2,
};

export interface RebalanceState {
  /** When the spread first exceeded the bound (undefined: it does not now). */
  skewedSince: number | undefined;
  lastRoundAt: number | undefined;
}
export const INITIAL_REBALANCE: RebalanceState = { skewedSince: undefined, lastRoundAt: undefined };

export interface RebalancePod {
  name: string;
  connections: number;
  /**
   * Terminating (deletionTimestamp set): its clients are leaving on their own. Never capacity (left out of the
   * mean), never asked to shed, and while one is there the fleet is not at rest.
   */
  terminating?: boolean;
}

export interface RebalanceInput {
  /** Ready pods with a fresh metric, and the fleet's terminating pods (flagged). */
  pods: readonly RebalancePod[];
  /**
   * The fleet is at rest: every wanted pod is ready and reporting, none is deleting, no scale is in flight. Shedding
   * while pods come or go would push clients onto pods about to vanish, or count the ramp as skew.
   */
  settled: boolean;
  targetConnectionsPerPod: number;
  spec: RebalanceSpec;
  state: RebalanceState;
  now: number;
}

export interface ShedOrder {
  pod: string;
  count: number;
}

export interface RebalanceDecision {
  shed: ShedOrder[];
  state: RebalanceState;
  mean: number;
  /** fullest - mean */
  spread: number;
  bound: number;
  reason: "NotSettled" | "Balanced" | "Waiting" | "Shedding";
}

export function rebalance(input: RebalanceInput): RebalanceDecision {
  const { spec, now, state } = input;
  const pods = input.pods.filter((p) => !p.terminating);
  const leaving = input.pods.length - pods.length;
  const total = pods.reduce((s, p) => s + p.connections, 0);
  const mean = pods.length > 0 ? total / pods.length : 0;
  const fullest = pods.reduce((m, p) => Math.max(m, p.connections), 0);
  const spread = fullest - mean;
  const bound = Math.max(spec.minSpread, spec.spreadFraction * input.targetConnectionsPerPod);
  const base = { mean, spread, bound };

  if (!input.settled || leaving > 0 || pods.length < 2) {
    return { ...base, shed: [], state: { ...state, skewedSince: undefined }, reason: "NotSettled" };
  }
  if (spread <= bound) {
    return { ...base, shed: [], state: { ...state, skewedSince: undefined }, reason: "Balanced" };
  }
  const skewedSince = state.skewedSince ?? now;
  const waited = now - skewedSince >= spec.sustainSeconds * 1000;
  const rested = state.lastRoundAt === undefined || now - state.lastRoundAt >= spec.roundSeconds * 1000;
  if (!waited || !rested) return { ...base, shed: [], state: { ...state, skewedSince }, reason: "Waiting" };

  // Shed from the pods well above the mean, fullest first. A shed client lands on any ready pod (this one
  // included), so move the excess over a few rounds instead of overshooting in one.
  const shed: ShedOrder[] = [];
  const candidates = [...pods]
    .filter((p) => p.connections - mean > bound / 2)
    .sort((a, b) => b.connections - a.connections || a.name.localeCompare(b.name))
    .slice(0, spec.maxPodsPerRound);
  for (const p of candidates) {
    const excess = Math.ceil(p.connections - mean);
    const cap = Math.max(1, Math.floor(p.connections * spec.maxShedFraction));
    shed.push({ pod: p.name, count: Math.min(excess, cap) });
  }
  return { ...base, shed, state: { skewedSince, lastRoundAt: now }, reason: "Shedding" };
}
