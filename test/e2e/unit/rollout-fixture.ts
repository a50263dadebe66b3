// A rolling deploy that passes, for the report tests: three old pods of 1,000 clients each, removed 3 s apart
// (preStop 5 s, drain 4 s, so reconnects fall in [15, 29)), their clients reconnecting evenly, nothing lost.
import type { PodDeletion, Sample } from "../report.js";
import type { RolloutFacts } from "../rollout-report.js";

export const ROLLOUT_TIMING = { preStopSeconds: 5, drainSeconds: 4 };

export function sample(t: number, over: Partial<Sample> = {}): Sample {
  return {
    t,
    phase: "p",
    replicas: 3,
    readyPods: 3,
    pods: {},
    clientsOpen: 3_000,
    clientsConnected: 3_000,
    reconnects: 0,
    moveNotices: 0,
    messages: 20,
    published: 20 * t,
    gaps: 0,
    duplicated: 0,
    outOfOrder: 0,
    clientLoopDelayMaxMs: 20,
    failedConnects: 0,
    clientHeapMaxMb: 100,
    machineCpuBusy: 0.5,
    coresByKind: {},
    ...over,
  };
}

export function goodRollout(): { rollout: RolloutFacts; samples: Sample[]; deletions: PodDeletion[] } {
  const old = ["o1", "o2", "o3"];
  const deletions: PodDeletion[] = old.map((pod, i) => ({
    t: 10 + 3 * i,
    pod,
    reason: "rolling update",
    connections: 1_000,
    kept: [],
    cost: 0,
    keptCosts: [],
  }));
  // 3,000 reconnects and reconnect frames over the 14 s window: 214 or 215 a second.
  const samples = Array.from({ length: 40 }, (_, i) => {
    const t = i + 1;
    const inWindow = t >= 15 && t < 29;
    const n = inWindow ? (t - 15 < 4 ? 215 : 214) : 0;
    return sample(t, { reconnects: n, moveNotices: n });
  });
  return {
    rollout: {
      from: 8,
      to: 30,
      maxSurge: 1,
      maxUnavailable: 0,
      minReadySeconds: 20,
      replicas: 3,
      oldPods: old.map((pod, i) => ({ pod, exitedAt: 19 + 3 * i, code: 0, signal: null })),
    },
    samples,
    deletions,
  };
}
