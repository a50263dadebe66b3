// Gateway pods as the autoscaler sees them, from the pod informer's cache: running, ready, terminating (a
// deletionTimestamp: still draining its clients, no longer part of the fleet), its IP and deletion cost.
import { matchesLabels } from "../../runtime/compare.js";
import type { KubeObject } from "../../runtime/kube.js";

/** A gateway pod, reduced to what autoscaling needs. */
export interface PodView {
  name: string;
  /** Phase Running: its container started (Pending is HPA's "unready" for a pods metric). */
  running: boolean;
  ready: boolean;
  /** Terminating (deletionTimestamp set) or failed: its clients are leaving; never capacity, never shed. */
  deleting: boolean;
  podIP: string | undefined;
  annotations: Record<string, string>;
  createdAt: number;
  /** The pod-template-hash label its ReplicaSet gave it: which template it runs (a rollout has two). */
  templateHash?: string | undefined;
}

interface PodStatus {
  phase?: string;
  podIP?: string;
  conditions?: { type: string; status: string }[];
}

export function podView(p: KubeObject): PodView {
  const status = (p.status ?? {}) as PodStatus;
  const running = status.phase === "Running";
  const ready = status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const created = p.metadata.creationTimestamp;
  return {
    name: p.metadata.name,
    running,
    ready: ready && running,
    deleting: p.metadata.deletionTimestamp !== undefined || status.phase === "Failed",
    podIP: status.podIP,
    annotations: p.metadata.annotations ?? {},
    createdAt: created ? new Date(created).getTime() : 0,
    templateHash: p.metadata.labels?.["pod-template-hash"],
  };
}

/** What the pod cache keeps of a pod: identity, labels, annotations, deletion and status; never its spec. */
export function podSummary(p: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, labels, annotations, deletionTimestamp, creationTimestamp } =
    p.metadata;
  const status = (p.status ?? {}) as PodStatus;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(uid !== undefined ? { uid } : {}),
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
      ...(deletionTimestamp ? { deletionTimestamp } : {}),
      ...(creationTimestamp ? { creationTimestamp } : {}),
    },
    status: { phase: status.phase, podIP: status.podIP, conditions: status.conditions },
  };
}

/** The cached pods of one gateway (its selector labels) in one namespace. */
export function podsOf(
  cache: readonly KubeObject[],
  namespace: string,
  selector: Readonly<Record<string, string>>,
): PodView[] {
  return cache
    .filter((p) => p.metadata.namespace === namespace && matchesLabels(p.metadata.labels, selector))
    .map(podView);
}
