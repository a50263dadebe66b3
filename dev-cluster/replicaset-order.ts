// Which pod a ReplicaSet deletes first on a scale-down: kube-controller-manager's ActivePodsWithRanks order
// (pkg/controller/controller_utils.go), minus the criteria that do not apply to one simulated node.
//   1. Pending before Running        2. not ready before ready
//   3. lower controller.kubernetes.io/pod-deletion-cost first
//   4. ready for less time first     5. more restarts first        6. newer first

export interface RankedPod {
  name: string;
  phase: "Pending" | "Running";
  ready: boolean;
  /** When the pod last became ready (ms). */
  readySince: number | undefined;
  /** The pod-deletion-cost annotation (0 when absent or not an int32). */
  deletionCost: number;
  restarts: number;
  createdAt: number;
}

export function parseDeletionCost(value: string | undefined): number {
  if (value === undefined || !/^-?\d+$/.test(value)) return 0;
  const n = Number(value);
  return n >= -2_147_483_648 && n <= 2_147_483_647 ? n : 0;
}

/** Negative when `a` should be deleted before `b`. */
export function compareForDeletion(a: RankedPod, b: RankedPod): number {
  if (a.phase !== b.phase) return a.phase === "Pending" ? -1 : 1;
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  if (a.deletionCost !== b.deletionCost) return a.deletionCost - b.deletionCost;
  if (a.ready && b.ready && a.readySince !== b.readySince) return (b.readySince ?? 0) - (a.readySince ?? 0);
  if (a.restarts !== b.restarts) return b.restarts - a.restarts;
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.name.localeCompare(b.name);
}

/** The `count` pods a scale-down removes, in order. */
export function podsToDelete<T extends RankedPod>(pods: readonly T[], count: number): T[] {
  return [...pods].sort(compareForDeletion).slice(0, Math.max(0, count));
}
