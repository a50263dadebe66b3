// Least-loaded scale-down: every gateway pod carries controller.kubernetes.io/pod-deletion-cost = its connection
// count, and the ReplicaSet controller deletes the pods with the lowest cost first, so a scale-down moves as few
// clients as possible. Pure: which pods need a new annotation value.

export const POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

const INT32_MAX = 2_147_483_647;

/** The annotation value for a pod holding `connections` (an int32, as the API server validates). */
export function podDeletionCost(connections: number): number {
  return Math.max(0, Math.min(INT32_MAX, Math.round(connections)));
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
}

export interface DeletionCostUpdate {
  pod: string;
  cost: number;
}

export function deletionCostUpdates(pods: readonly CostedPod[], target: number): DeletionCostUpdate[] {
  const out: DeletionCostUpdate[] = [];
  for (const p of pods) {
    if (p.connections === undefined) continue;
    const cost = podDeletionCost(p.connections);
    if (deletionCostStale(p.annotations?.[POD_DELETION_COST], cost, target)) out.push({ pod: p.name, cost });
  }
  return out;
}
