// The Deployment controller's RollingUpdate arithmetic, pure, for the pod simulator: how many new-template pods
// to create and how many old ones to delete in one sync, from the strategy the operator rendered
// (maxSurge/maxUnavailable, integers or percentages of spec.replicas) and the pods' readiness. Mirrors
// kube-controller-manager (deployment/rolling.go): new pods never take the total past replicas + maxSurge, old
// pods go only while replicas - maxUnavailable stay available (ready for at least the Deployment's minReadySeconds).

export type IntOrPercent = number | string;

export interface RollingUpdateStrategy {
  maxSurge?: IntOrPercent;
  maxUnavailable?: IntOrPercent;
}

/** An int-or-percent against `total`: percentages round up for maxSurge, down for maxUnavailable. */
export function resolveIntOrPercent(v: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0) throw new Error(`rolling update: ${v} is not a non-negative integer`);
    return v;
  }
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`rolling update: "${v}" is neither an integer nor a percentage`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** The strategy as pod counts; both 0 would deadlock a rollout, so maxUnavailable becomes 1 (as upstream). */
export function rollingUpdateLimits(
  s: RollingUpdateStrategy | undefined,
  replicas: number,
): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = resolveIntOrPercent(s?.maxSurge ?? "25%", replicas, true);
  const maxUnavailable = resolveIntOrPercent(s?.maxUnavailable ?? "25%", replicas, false);
  return { maxSurge, maxUnavailable: maxSurge === 0 && maxUnavailable === 0 ? 1 : maxUnavailable };
}

export interface RolloutCounts {
  /** spec.replicas */
  desired: number;
  /** Live (not terminating) pods of the current template, and how many of them are available. */
  newPods: number;
  newAvailable: number;
  /** Live pods of older templates, and how many of them are available. */
  oldPods: number;
  oldAvailable: number;
}

/** One sync of a rolling update: pods of the new template to create, old pods to delete (in ReplicaSet order). */
export function rolloutStep(
  c: RolloutCounts,
  limits: { maxSurge: number; maxUnavailable: number },
): { create: number; deleteOld: number } {
  const total = c.newPods + c.oldPods;
  const create = Math.max(0, Math.min(c.desired + limits.maxSurge - total, c.desired - c.newPods));
  const minAvailable = c.desired - limits.maxUnavailable;
  // Unavailable old pods first (cleanupUnhealthyReplicas): they may go as long as the new ones still starting leave
  // room above minAvailable.
  const budget = Math.max(0, total - minAvailable - (c.newPods - c.newAvailable));
  const unhealthy = Math.min(c.oldPods - c.oldAvailable, budget);
  // Then available old pods, as far as availability above minAvailable allows.
  const available = Math.max(0, Math.min(c.oldAvailable, c.newAvailable + c.oldAvailable - minAvailable));
  return { create, deleteOld: unhealthy + available };
}

/** Available as the Deployment controller counts it: Ready, and for at least minReadySeconds. */
export function isAvailable(
  p: { ready: boolean; readySince: number | undefined },
  minReadySeconds: number,
  now: number,
): boolean {
  return p.ready && p.readySince !== undefined && now - p.readySince >= minReadySeconds * 1000;
}
