// The pod simulator: plays kube-controller-manager's Deployment/ReplicaSet controllers for the gateway
// Deployments in one namespace of the fake API server, over a kubelet (kubelet.ts) running real gateway processes.
//   - ReplicaSet: keeps spec.replicas pods of the current template; on a scale-down deletes in ReplicaSet order
//     (Pending, not ready, lowest pod-deletion-cost, ready for less time, newer: replicaset-order.ts); on a
//     template change, rolls with the Deployment's maxSurge/maxUnavailable (deployment-rollout.ts): new pods up
//     to replicas + maxSurge, old ones deleted only while replicas - maxUnavailable stay available
//     (minReadySeconds). Deletion is
//     graceful as on a real cluster: a DELETE (the ReplicaSet's scale-down, kubectl, garbage collection) only
//     marks the pod (deletionTimestamp, deletionGracePeriodSeconds); the kubelet stops it and removes it.
//   - Deployment status: replicas, updatedReplicas, readyReplicas, availableReplicas (Ready for minReadySeconds),
//     observedGeneration (terminating pods are not counted, as the ReplicaSet does not count them).
// Fidelity limits: one node, no scheduling, no ReplicaSet objects; a terminating pod leaves the Service's endpoints
// when its termination starts (endpoints() leaves it out); a force-deleted pod (grace 0, gone from the API) is
// still stopped with its template's grace period.
import { createHash, randomBytes } from "node:crypto";
import {
  isAvailable,
  type RollingUpdateStrategy,
  rollingUpdateLimits,
  rolloutStep,
} from "./deployment-rollout.js";
import { collection, type KubeObject, KubeRest } from "./kube-rest.js";
import { Kubelet, type PodEvent, type SimPod, type Template } from "./kubelet.js";
import { type ContainerSpec, portOf } from "./kubelet-env.js";
import { parseDeletionCost, podsToDelete } from "./replicaset-order.js";

export type { PodEvent } from "./kubelet.js";

export interface PodSimulatorOptions {
  /** Fake API server URL. */
  server: string;
  /** Bearer token (the kube-controller-manager and kubelet identity) when the API server enforces RBAC. */
  token?: string;
  namespace: string;
  /** Pod IPs are `${ipPrefix}${n}`, n = 2..254 round robin (a drained IP is not reused at once). */
  ipPrefix?: string;
  /** Repository root (where gateway/src/main.ts lives). */
  rootDir: string;
  /** Per-pod stdout/stderr files go here (none when undefined). */
  logDir?: string;
  reconcileMs?: number;
  probeMs?: number;
  /** Extra env for every gateway process (e.g. RTGW_LOG_LEVEL). */
  extraEnv?: Record<string, string>;
  onEvent?: (e: PodEvent) => void;
}

export class PodSimulator {
  private readonly api: KubeRest;
  private readonly kubelet: Kubelet;
  private readonly pods: Map<string, SimPod>;
  private timer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly ns: string;

  constructor(private readonly o: PodSimulatorOptions) {
    this.api = new KubeRest(o.server, o.token);
    this.ns = o.namespace;
    this.kubelet = new Kubelet({
      api: this.api,
      namespace: o.namespace,
      rootDir: o.rootDir,
      ...(o.ipPrefix ? { ipPrefix: o.ipPrefix } : {}),
      ...(o.logDir ? { logDir: o.logDir } : {}),
      ...(o.extraEnv ? { extraEnv: o.extraEnv } : {}),
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    });
    this.pods = this.kubelet.pods;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.busy = this.reconcile().catch((err) => console.error("pod simulator:", (err as Error).message));
      void this.busy.then(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.o.reconcileMs ?? 500);
      });
    };
    loop();
    const probe = () => {
      if (this.stopped) return;
      void this.kubelet.probe().then(() => {
        if (!this.stopped) this.probeTimer = setTimeout(probe, this.o.probeMs ?? 1000);
      });
    };
    probe();
  }

  /** Ready, non-terminating pods: what the Service's endpoints hold. */
  endpoints(): { pod: string; ip: string; port: number }[] {
    return [...this.pods.values()]
      .filter((p) => p.ready && !p.terminating)
      .map((p) => ({ pod: p.name, ip: p.ip, port: p.httpPort }));
  }

  /** Every pod with a process, terminating ones included (for the timeline). */
  running(): { pod: string; ip: string; port: number; terminating: boolean; ready: boolean }[] {
    return [...this.pods.values()]
      .filter((p) => p.proc !== undefined)
      .map((p) => ({ pod: p.name, ip: p.ip, port: p.httpPort, terminating: p.terminating, ready: p.ready }));
  }

  /** Stop reconciling and kill every gateway (SIGKILL after a short SIGTERM grace). */
  async stop(graceMs = 3000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.probeTimer);
    await this.busy;
    await this.kubelet.stop(graceMs);
  }

  private async reconcile(): Promise<void> {
    const deployments = await this.api.list(collection("apps/v1", "deployments", this.ns));
    const known = new Set<string>();
    for (const d of deployments) {
      known.add(d.metadata.name);
      await this.reconcileDeployment(d);
    }
    // Deployments that went away (garbage collected with their RealtimeGateway): their pods go too (the garbage
    // collector has marked them already; a second DELETE changes nothing).
    for (const p of this.pods.values()) {
      if (!known.has(p.deployment) && !p.terminating) await this.terminate(p, "deployment deleted");
    }
  }

  private async reconcileDeployment(d: KubeObject): Promise<void> {
    const spec = d.spec as {
      replicas?: number;
      template: Template;
      strategy?: { rollingUpdate?: RollingUpdateStrategy };
      minReadySeconds?: number;
    };
    const desired = spec.replicas ?? 1;
    const hash = templateHash(spec.template);
    const inApi = new Map(
      (await this.api.list(collection("v1", "pods", this.ns))).map((p) => [p.metadata.name, p] as const),
    );
    const mine = [...this.pods.values()].filter((p) => p.deployment === d.metadata.name && !p.terminating);
    for (const p of mine) {
      const obj = inApi.get(p.name);
      if (!obj || obj.metadata.deletionTimestamp !== undefined) {
        // Deleted by someone else (kubectl delete pod, GC): the kubelet stops it; the ReplicaSet replaces it.
        await this.terminate(p, "pod deleted", false);
        continue;
      }
      p.deletionCost = parseDeletionCost(
        obj.metadata.annotations?.["controller.kubernetes.io/pod-deletion-cost"],
      );
    }
    const live = mine.filter((p) => !p.terminating);
    const current = live.filter((p) => p.hash === hash);
    const old = live.filter((p) => p.hash !== hash);

    // Start pods that are created but still waiting for their config (a missing Secret). Only Pending ones: a
    // crashed container is the kubelet's to restart, and starting it here too raced that restart, leaving two
    // processes on one pod IP (the second exits EADDRINUSE, in a loop; the first is no longer tracked or stopped).
    for (const p of live)
      if (!p.proc && p.phase === "Pending") await this.kubelet.startContainer(p, spec.template);

    if (old.length === 0) {
      if (current.length < desired) {
        for (let i = current.length; i < desired; i++) await this.createPod(d, spec.template, hash);
      } else if (current.length > desired) {
        for (const p of podsToDelete(current, current.length - desired))
          await this.terminate(p, "scale down");
      }
    } else {
      // Rolling update with the Deployment's own maxSurge/maxUnavailable (deployment-rollout.ts).
      const now = Date.now();
      const available = (pods: SimPod[]) =>
        pods.filter((p) => isAvailable(p, spec.minReadySeconds ?? 0, now)).length;
      const step = rolloutStep(
        {
          desired,
          newPods: current.length,
          newAvailable: available(current),
          oldPods: old.length,
          oldAvailable: available(old),
        },
        rollingUpdateLimits(spec.strategy?.rollingUpdate, desired),
      );
      for (let i = 0; i < step.create; i++) await this.createPod(d, spec.template, hash);
      for (const p of podsToDelete(old, step.deleteOld)) await this.terminate(p, "rolling update");
      if (current.length > desired) {
        for (const p of podsToDelete(current, current.length - desired))
          await this.terminate(p, "scale down");
      }
    }
    await this.writeDeploymentStatus(d, hash, spec.minReadySeconds ?? 0);
  }

  private async writeDeploymentStatus(d: KubeObject, hash: string, minReadySeconds: number): Promise<void> {
    const live = [...this.pods.values()].filter((p) => p.deployment === d.metadata.name && !p.terminating);
    const ready = live.filter((p) => p.ready).length;
    // Available as the Deployment controller counts it: Ready for minReadySeconds (a scale-up's pods serve at
    // once, but show as available only then).
    const now = Date.now();
    const available = live.filter((p) => isAvailable(p, minReadySeconds, now)).length;
    const status = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: live.length,
      updatedReplicas: live.filter((p) => p.hash === hash).length,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, ((d.spec as { replicas?: number }).replicas ?? 1) - available),
    };
    const was = (d.status ?? {}) as Record<string, unknown>;
    if (Object.entries(status).every(([k, v]) => was[k] === v)) return;
    await this.api.mergePatch(`${collection("apps/v1", "deployments", this.ns)}/${d.metadata.name}/status`, {
      status,
    });
  }

  private async createPod(d: KubeObject, template: Template, hash: string): Promise<void> {
    const name = `${d.metadata.name}-${hash}-${randomBytes(3).toString("hex").slice(0, 5)}`;
    const container = template.spec.containers[0] as ContainerSpec;
    const httpPort = portOf(container, container.readinessProbe?.httpGet?.port ?? "http") ?? 8080;
    const ip = await this.kubelet.allocateIp((container.ports ?? []).map((p) => p.containerPort));
    const now = Date.now();
    await this.api.create(collection("v1", "pods", this.ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: this.ns,
        labels: { ...(template.metadata?.labels ?? {}), "pod-template-hash": hash },
        annotations: { ...(template.metadata?.annotations ?? {}) },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: d.metadata.name,
            uid: d.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...template.spec, nodeName: "cluster-in-a-box" },
    });
    await this.kubelet.run(
      {
        name,
        deployment: d.metadata.name,
        hash,
        ip,
        httpPort,
        phase: "Pending",
        ready: false,
        readySince: undefined,
        deletionCost: 0,
        restarts: 0,
        createdAt: now,
        proc: undefined,
        terminating: false,
        exited: undefined,
        log: undefined,
      },
      template,
    );
  }

  /**
   * A pod leaves the ReplicaSet. `deleteObject`: this simulator (as the ReplicaSet) asks for the deletion;
   * otherwise someone else already did. The kubelet then stops it gracefully.
   */
  private async terminate(pod: SimPod, reason: string, deleteObject = true): Promise<void> {
    if (pod.terminating) return;
    pod.terminating = true;
    const others = [...this.pods.values()]
      .filter((p) => p !== pod && p.deployment === pod.deployment && !p.terminating)
      .map((p) => p.deletionCost);
    this.o.onEvent?.({
      kind: "deleting",
      at: Date.now(),
      pod: pod.name,
      deletionCost: pod.deletionCost,
      others,
      reason,
    });
    if (deleteObject) await this.api.delete(`${collection("v1", "pods", this.ns)}/${pod.name}`);
    await this.kubelet.terminate(pod, () => this.templateOf(pod));
  }

  private async templateOf(pod: SimPod): Promise<Template["spec"] | undefined> {
    const d = await this.api.get(`${collection("apps/v1", "deployments", this.ns)}/${pod.deployment}`);
    return (d?.spec as { template?: Template } | undefined)?.template?.spec;
  }
}

/** pod-template-hash: changes whenever the template does (the real one hashes the template the same way). */
export function templateHash(template: Template): string {
  return createHash("sha256").update(JSON.stringify(template)).digest("hex").slice(0, 10);
}
