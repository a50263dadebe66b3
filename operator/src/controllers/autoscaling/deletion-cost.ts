// Least-loaded scale-down: every gateway pod carries controller.kubernetes.io/pod-deletion-cost = its connection
// count, and the ReplicaSet controller deletes the pods with the lowest cost first, so a scale-down moves as few
// clients as possible. During a rolling update the pods of the template being replaced carry minus their count
// instead: every one of their clients moves before the rollout ends anyway, and taking the fullest first keeps the
// waves even (the clients of each wave land on the Service's pods, old ones included, so the last old pods
// to go hold the most; emptiest first would stack the fullest old pod and all of that on the last wave).
// Pure: which pods need a new annotation value.

export const POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

const INT32_MAX = 2_147_483_647;

/**
 * The annotation value for a pod holding `connections` (an int32, as the API server validates); negated for a pod
 * of a template a rolling update is replacing, so that the fullest go first.
 */
export function podDeletionCost(connections: number, replaced = false): number {
  const n = Math.max(0, Math.min(INT32_MAX, Math.round(connections)));
  return replaced && n > 0 ? -n : n;
}

/**
 * The pods a rolling update is replacing: their pod-template-hash differs from the newest live pod's (the
 * Deployment creates only pods of its current template while it rolls). None when every pod has one template.
 */
export function replacedPods(
  pods: readonly { name: string; templateHash?: string | undefined; createdAt: number }[],
): Set<string> {
  const newest = pods.reduce<(typeof pods)[number] | undefined>(
    (a, p) => (a === undefined || p.createdAt > a.createdAt ? p : a),
    undefined,
  );
  const current = newest?.templateHash;
  if (current === undefined) return new Set();
  return new Set(
    pods.filter((p) => p.templateHash !== undefined && p.templateHash !== current).map((p) => p.name),
  );
}

/**
 * Writing the annotation on every scrape would be a pod PATCH per pod every few seconds; only the order matters,
 * so skip changes smaller than 1 % of the target (and always write a missing or foreign value).
 */
export function deletionCostStale(current: string | undefined, next: number, target: number): boolean {
  if (current === undefined || !/^-?\d+$/.test(current)) return true;
  const was = Number(current);
  if (was === next) return false;
  if (was === 0 || next === 0) return true;
  return Math.abs(was - next) >= Math.max(1, Math.floor(target / 100));
}

export interface CostedPod {
  name: string;
  annotations: Readonly<Record<string, string>> | undefined;
  /** undefined: no fresh metric, leave the annotation as it is. */
  connections: number | undefined;
  /** Of a template a rolling update is replacing (replacedPods). */
  replaced?: boolean;
}

export interface DeletionCostUpdate {
  pod: string;
  cost: number;
}

export function deletionCostUpdates(pods: readonly CostedPod[], target: number): DeletionCostUpdate[] {
  const out: DeletionCostUpdate[] = [];
  for (const p of pods) {
    if (p.connections === undefined) continue;
    const cost = podDeletionCost(p.connections, p.replaced === true);
    if (deletionCostStale(p.annotations?.[POD_DELETION_COST], cost, target)) out.push({ pod: p.name, cost });
  }
  return out;
}
