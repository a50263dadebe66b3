// Every pod the ReplicaSet removes, with the pods' OWN connection counts at that moment: the removed pod's (it
// sleeps in preStop, its clients still there) and every ready pod's that stays, each from its /api/stats. The
// report judges "a scale-down removed the emptiest pod" on these counts, never on the pod-deletion-cost
// annotations: the simulator sorts by those, so they would agree with its choice by construction.
import type { PodEvent } from "../../dev-cluster/pod-simulator.js";
import type { PodDeletion } from "./report.js";

type RunningPod = { pod: string; ip: string; port: number; terminating: boolean; ready: boolean };
type Deleting = Extract<PodEvent, { kind: "deleting" }>;

/** A pod's open connections from its /api/stats; undefined when it does not answer in time. */
export async function podConnections(p: { ip: string; port: number }): Promise<number | undefined> {
  try {
    const res = await fetch(`http://${p.ip}:${p.port}/api/stats`, { signal: AbortSignal.timeout(900) });
    const body = (await res.json()) as { connections?: unknown };
    return typeof body.connections === "number" ? body.connections : undefined;
  } catch {
    return undefined;
  }
}

export function recordPodRemovals(
  running: () => RunningPod[],
  at: () => number,
  log: (line: string) => void,
): { deletions: PodDeletion[]; onDeleting: (e: Deleting) => void; settled: () => Promise<void> } {
  const deletions: PodDeletion[] = [];
  const reads: Promise<void>[] = [];
  const onDeleting = (e: Deleting) => {
    // Taken synchronously, at the moment the ReplicaSet chose: who was there, and who was ready.
    const pods = running();
    const removed = pods.find((p) => p.pod === e.pod);
    const kept = pods.filter((p) => p.pod !== e.pod && p.ready && !p.terminating);
    const d: PodDeletion = {
      t: at(),
      pod: e.pod,
      reason: e.reason,
      connections: undefined,
      kept: [],
      cost: e.deletionCost,
      keptCosts: e.others,
    };
    deletions.push(d);
    reads.push(
      (async () => {
        const [own, ...others] = await Promise.all([
          removed ? podConnections(removed) : 0, // no process, no clients
          ...kept.map(podConnections),
        ]);
        d.connections = own;
        d.kept = kept.flatMap((p, i) => {
          const n = others[i];
          return n === undefined ? [] : [{ pod: p.pod, connections: n }];
        });
        const keptText = d.kept.map((k) => `${k.pod} ${k.connections}`).join(", ");
        log(
          `  t=${d.t}s ${e.reason}: ${e.pod} (${own ?? "?"} connections, cost ${e.deletionCost}; kept ${keptText})`,
        );
      })(),
    );
  };
  return { deletions, onDeleting, settled: async () => void (await Promise.all(reads)) };
}
