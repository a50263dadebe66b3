// How fast a rolling deploy replaces gateway pods, pure: the Deployment's maxSurge/maxUnavailable, minReadySeconds
// and progressDeadlineSeconds from the spec. Every client of an old pod reconnects, so a rollout that deletes the
// old pods as fast as new ones turn Ready is a reconnect storm; this paces it in waves of about a tenth of the
// fleet, one drain window apart, so only that share of the connections is moving at any moment.

/** A wave is this share of the replicas, rounded up (so at least one pod): the share of clients moving at once. */
export const WAVE_PERCENT = 10;
/**
 * minReadySeconds is the drain window, capped: past it waves overlap, which is harmless by then, because a pod
 * draining over more than 5 minutes moves its clients slowly anyway, and ten waves then wait at most 50 minutes in all.
 */
export const MAX_MIN_READY_SECONDS = 300;
/** Kubernetes' default progress deadline, kept as the headroom for one wave's pods to start. */
export const PROGRESS_HEADROOM_SECONDS = 600;

export interface RolloutPacingInput {
  /** spec.replicas: the Deployment's replicas, re-rendered whenever the autoscaler or a user scales. */
  replicas: number;
  /** spec.drain.seconds: how long a deleted pod spreads its clients' closes over. */
  drainSeconds: number;
}

export interface RolloutPacing {
  /** New pods created ahead of the old ones: the size of each wave. */
  maxSurge: number;
  /** Never below the current capacity: a wave's old pods go only once their replacements are available. */
  maxUnavailable: 0;
  /** How long a new pod must stay Ready before it counts as available, and so before the next wave starts. */
  minReadySeconds: number;
  /** Must exceed minReadySeconds (the API server refuses the Deployment otherwise). */
  progressDeadlineSeconds: number;
}

export function rolloutPacing(input: RolloutPacingInput): RolloutPacing {
  const replicas = Math.max(0, Math.floor(input.replicas));
  const maxSurge = Math.max(1, Math.ceil((replicas * WAVE_PERCENT) / 100));
  // A wave is deleted when the previous wave's replacements have been Ready this long: the previous wave's closes
  // (spread over the drain window) are then over, so drains follow each other instead of piling up. With no drain
  // window the clients still come back over the gateway's reconnect jitter (at least 1 s).
  const minReadySeconds = Math.min(MAX_MIN_READY_SECONDS, Math.max(1, Math.floor(input.drainSeconds)));
  return {
    maxSurge,
    maxUnavailable: 0,
    minReadySeconds,
    progressDeadlineSeconds: minReadySeconds + PROGRESS_HEADROOM_SECONDS,
  };
}
