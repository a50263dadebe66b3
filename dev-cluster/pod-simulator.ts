// The pod simulator: plays kube-controller-manager's Deployment/ReplicaSet controllers and the kubelet for the
// gateway Deployments in one namespace of the fake API server, with real gateway processes.
//   - ReplicaSet: keeps spec.replicas pods of the current template; on a scale-down deletes in ReplicaSet order
//     (Pending, not ready, lowest pod-deletion-cost, ready for less time, newer: replicaset-order.ts); on a
//     template change, rolls with the Deployment's maxSurge/maxUnavailable (deployment-rollout.ts): new pods up
//     to replicas + maxSurge, old ones deleted only while replicas - maxUnavailable stay available (minReadySeconds).
//   - kubelet: resolves env (envFrom ConfigMap, secretKeyRef, fieldRef; a missing Secret keeps the pod Pending,
//     retried), starts `gateway/src/main.ts` bound to the pod's own loopback IP (127.0.10.N, RTGW_HOST) on the
//     container's ports, probes /readyz into the Ready condition (terminating pods too, so a draining pod turns
//     not Ready), restarts a crashed container. Deletion is graceful as on a real cluster: a DELETE (the
//     ReplicaSet's scale-down, kubectl, garbage collection) only marks the pod (deletionTimestamp,
//     deletionGracePeriodSeconds); the kubelet sees the mark, runs the preStop sleep, SIGTERM, SIGKILL when the
//     grace period ends, and once the process is gone deletes the pod with gracePeriodSeconds=0.
//   - Deployment status: replicas, updatedReplicas, readyReplicas, availableReplicas, observedGeneration
//     (terminating pods are not counted, as the ReplicaSet does not count them).
// Fidelity limits: one node, no scheduling, no ReplicaSet objects; a terminating pod leaves the Service's endpoints
// when its termination starts (endpoints() leaves it out); a force-deleted pod (grace 0, gone from the API) is
// still stopped with its template's grace period.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  isAvailable,
  type RollingUpdateStrategy,
  rollingUpdateLimits,
  rolloutStep,
} from "./deployment-rollout.js";
import { collection, type KubeObject, KubeRest } from "./kube-rest.js";
import { parseDeletionCost, podsToDelete, type RankedPod } from "./replicaset-order.js";

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

export type PodEvent =
  | { kind: "created"; at: number; pod: string; ip: string }
  | { kind: "ready" | "unready"; at: number; pod: string }
  | { kind: "deleting"; at: number; pod: string; deletionCost: number; others: number[]; reason: string }
  | { kind: "exited"; at: number; pod: string; code: number | null; signal: string | null };

interface SimPod extends RankedPod {
  deployment: string;
  hash: string;
  ip: string;
  httpPort: number;
  proc: ChildProcess | undefined;
  terminating: boolean;
  exited: Promise<void> | undefined;
  log: WriteStream | undefined;
}

interface ContainerSpec {
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string; optional?: boolean };
      configMapKeyRef?: { name: string; key: string };
      fieldRef?: { fieldPath: string };
    };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
}

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: ContainerSpec[]; terminationGracePeriodSeconds?: number };
}

class PendingError extends Error {}

export class PodSimulator {
  private readonly api: KubeRest;
  private readonly pods = new Map<string, SimPod>();
  private nextIp = 2;
  private timer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly ns: string;

  constructor(private readonly o: PodSimulatorOptions) {
    this.api = new KubeRest(o.server, o.token);
    this.ns = o.namespace;
    if (o.logDir) mkdirSync(o.logDir, { recursive: true });
    process.once("exit", this.killAll);
  }

  /** Last resort when the harness dies: no gateway outlives it. */
  private readonly killAll = () => {
    for (const p of this.pods.values()) p.proc?.kill("SIGKILL");
  };

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
      void this.probe().then(() => {
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
    await Promise.all(
      [...this.pods.values()].map(async (p) => {
        p.terminating = true;
        if (!p.proc) return;
        p.proc.kill("SIGTERM");
        const t = setTimeout(() => p.proc?.kill("SIGKILL"), graceMs);
        await p.exited;
        clearTimeout(t);
      }),
    );
    process.removeListener("exit", this.killAll);
  }

  // ---- ReplicaSet + Deployment controller --------------------------------------------------------

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

    // Start pods that are created but still waiting for their config (a missing Secret).
    for (const p of live) if (!p.proc) await this.startContainer(p, d, spec.template);

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
    await this.writeDeploymentStatus(d, hash);
  }

  private async writeDeploymentStatus(d: KubeObject, hash: string): Promise<void> {
    const live = [...this.pods.values()].filter((p) => p.deployment === d.metadata.name && !p.terminating);
    const ready = live.filter((p) => p.ready).length;
    const status = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: live.length,
      updatedReplicas: live.filter((p) => p.hash === hash).length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, ((d.spec as { replicas?: number }).replicas ?? 1) - ready),
    };
    const was = (d.status ?? {}) as Record<string, unknown>;
    if (Object.entries(status).every(([k, v]) => was[k] === v)) return;
    await this.api.mergePatch(`${collection("apps/v1", "deployments", this.ns)}/${d.metadata.name}/status`, {
      status,
    });
  }

  /** The next pod IP not used by a pod of ours and whose ports are free (a leftover process may hold one). */
  private async allocateIp(ports: number[]): Promise<string> {
    const prefix = this.o.ipPrefix ?? "127.0.10.";
    const used = new Set([...this.pods.values()].map((p) => p.ip));
    for (let i = 0; i < 253; i++) {
      const n = this.nextIp;
      this.nextIp = this.nextIp >= 254 ? 2 : this.nextIp + 1;
      const ip = `${prefix}${n}`;
      if (!used.has(ip) && (await portsFree(ip, ports))) return ip;
    }
    throw new Error("pod simulator: out of pod IPs");
  }

  private async createPod(d: KubeObject, template: Template, hash: string): Promise<void> {
    const name = `${d.metadata.name}-${hash}-${randomBytes(3).toString("hex").slice(0, 5)}`;
    const container = template.spec.containers[0] as ContainerSpec;
    const httpPort = portOf(container, container.readinessProbe?.httpGet?.port ?? "http") ?? 8080;
    const ip = await this.allocateIp((container.ports ?? []).map((p) => p.containerPort));
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
    const pod: SimPod = {
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
      log: this.o.logDir ? createWriteStream(join(this.o.logDir, `${name}.log`)) : undefined,
    };
    this.pods.set(name, pod);
    this.o.onEvent?.({ kind: "created", at: now, pod: name, ip });
    await this.writePodStatus(pod, "ContainerCreating");
    await this.startContainer(pod, d, template);
  }

  // ---- kubelet -------------------------------------------------------------------------------------

  private async resolveEnv(pod: SimPod, container: ContainerSpec): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef) {
        const cm = await this.api.get(`${collection("v1", "configmaps", this.ns)}/${from.configMapRef.name}`);
        if (!cm) throw new PendingError(`configmap "${from.configMapRef.name}" not found`);
        Object.assign(env, cm.data ?? {});
      }
      if (from.secretRef) {
        const s = await this.api.get(`${collection("v1", "secrets", this.ns)}/${from.secretRef.name}`);
        if (!s) throw new PendingError(`secret "${from.secretRef.name}" not found`);
        for (const [k, v] of Object.entries(s.data ?? {})) env[k] = Buffer.from(v, "base64").toString();
      }
    }
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom;
      if (ref?.secretKeyRef) {
        const s = await this.api.get(`${collection("v1", "secrets", this.ns)}/${ref.secretKeyRef.name}`);
        const v = s?.data?.[ref.secretKeyRef.key];
        if (v === undefined) {
          if (ref.secretKeyRef.optional) continue;
          throw new PendingError(`secret "${ref.secretKeyRef.name}" key "${ref.secretKeyRef.key}" not found`);
        }
        env[e.name] = Buffer.from(v, "base64").toString();
      } else if (ref?.configMapKeyRef) {
        const cm = await this.api.get(
          `${collection("v1", "configmaps", this.ns)}/${ref.configMapKeyRef.name}`,
        );
        const v = cm?.data?.[ref.configMapKeyRef.key];
        if (v === undefined) throw new PendingError(`configmap key "${ref.configMapKeyRef.key}" not found`);
        env[e.name] = v;
      } else if (ref?.fieldRef) {
        const path = ref.fieldRef.fieldPath;
        env[e.name] = path === "metadata.name" ? pod.name : path === "metadata.namespace" ? this.ns : pod.ip;
      }
    }
    return env;
  }

  private async startContainer(pod: SimPod, _d: KubeObject, template: Template): Promise<void> {
    const container = template.spec.containers[0] as ContainerSpec;
    let env: Record<string, string>;
    try {
      env = await this.resolveEnv(pod, container);
    } catch (err) {
      if (err instanceof PendingError) {
        await this.writePodStatus(pod, `CreateContainerConfigError: ${err.message}`);
        return;
      }
      throw err;
    }
    this.spawnGateway(pod, env);
    pod.phase = "Running";
    await this.writePodStatus(pod);
  }

  private spawnGateway(pod: SimPod, env: Record<string, string>): void {
    const child = spawn(process.execPath, ["--import", "tsx", "gateway/src/main.ts"], {
      cwd: this.o.rootDir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        RTGW_LOG_LEVEL: "warn",
        ...env,
        ...(this.o.extraEnv ?? {}),
        RTGW_HOST: pod.ip,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    pod.proc = child;
    if (pod.log) {
      child.stdout?.pipe(pod.log, { end: false });
      child.stderr?.pipe(pod.log, { end: false });
    } else {
      child.stdout?.resume();
      child.stderr?.resume();
    }
    pod.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.o.onEvent?.({ kind: "exited", at: Date.now(), pod: pod.name, code, signal });
        pod.ready = false;
        if (pod.terminating || this.stopped) {
          // terminate() (or stop()) finishes the pod.
          pod.proc = undefined;
          if (this.stopped) pod.log?.end();
        } else {
          // restartPolicy Always: the kubelet restarts the container (here after a second, no backoff growth).
          pod.restarts++;
          pod.proc = undefined;
          setTimeout(() => {
            if (!pod.terminating && !this.stopped) this.spawnAgain(pod, env);
          }, 1000);
        }
        resolve();
      });
    });
  }

  private spawnAgain(pod: SimPod, env: Record<string, string>): void {
    this.spawnGateway(pod, env);
  }

  /**
   * Graceful termination as the kubelet does it. `deleteObject`: this simulator (as the ReplicaSet) asks for the
   * deletion; otherwise someone else already did. The grace period is the one the API server recorded on the pod.
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
    const path = `${collection("v1", "pods", this.ns)}/${pod.name}`;
    if (deleteObject) await this.api.delete(path);
    const live = await this.api.get(path);
    const spec = (live?.spec as Template["spec"] | undefined) ?? (await this.templateOf(pod));
    const preStop = spec?.containers[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0;
    const grace = live?.metadata.deletionGracePeriodSeconds ?? spec?.terminationGracePeriodSeconds ?? 30;
    void (async () => {
      if (pod.proc) {
        const started = Date.now();
        // SIGKILL when the grace period ends, counted from the start of termination (preStop included).
        const kill = setTimeout(() => pod.proc?.kill("SIGKILL"), grace * 1000);
        await sleep(Math.min(preStop, grace) * 1000);
        if (pod.proc && Date.now() - started < grace * 1000) pod.proc.kill("SIGTERM");
        await pod.exited;
        clearTimeout(kill);
      }
      this.pods.delete(pod.name);
      pod.log?.end();
      // The containers are gone: the kubelet finishes the deletion.
      await this.api.delete(`${path}?gracePeriodSeconds=0`).catch(() => {});
    })();
  }

  private async templateOf(pod: SimPod): Promise<Template["spec"] | undefined> {
    const d = await this.api.get(`${collection("apps/v1", "deployments", this.ns)}/${pod.deployment}`);
    return (d?.spec as { template?: Template } | undefined)?.template?.spec;
  }

  private async probe(): Promise<void> {
    await Promise.all(
      [...this.pods.values()]
        .filter((p) => p.proc !== undefined)
        .map(async (p) => {
          let ready = false;
          try {
            const res = await fetch(`http://${p.ip}:${p.httpPort}/readyz`, {
              signal: AbortSignal.timeout(1000),
            });
            await res.body?.cancel();
            ready = res.status === 200;
          } catch {
            ready = false;
          }
          if (ready === p.ready) return;
          p.ready = ready;
          if (ready) p.readySince = Date.now();
          this.o.onEvent?.({ kind: ready ? "ready" : "unready", at: Date.now(), pod: p.name });
          try {
            await this.writePodStatus(p);
          } catch {
            // the pod may have been deleted meanwhile
          }
        }),
    );
  }

  private async writePodStatus(pod: SimPod, waiting?: string): Promise<void> {
    const now = new Date().toISOString();
    const ready = pod.ready ? "True" : "False";
    await this.api.mergePatch(`${collection("v1", "pods", this.ns)}/${pod.name}/status`, {
      status: {
        phase: pod.phase,
        hostIP: "127.0.0.1",
        podIP: pod.ip,
        podIPs: [{ ip: pod.ip }],
        startTime: new Date(pod.createdAt).toISOString(),
        conditions: [
          { type: "PodScheduled", status: "True", lastTransitionTime: new Date(pod.createdAt).toISOString() },
          { type: "ContainersReady", status: ready, lastTransitionTime: now },
          { type: "Ready", status: ready, lastTransitionTime: now },
        ],
        containerStatuses: [
          {
            name: "gateway",
            ready: pod.ready,
            started: pod.proc !== undefined,
            restartCount: pod.restarts,
            image: "rtgw-gateway",
            imageID: "",
            state: waiting
              ? { waiting: { reason: waiting.split(":")[0], message: waiting } }
              : { running: { startedAt: now } },
          },
        ],
      },
    });
  }
}

function portOf(container: ContainerSpec, port: number | string): number | undefined {
  if (typeof port === "number") return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** pod-template-hash: changes whenever the template does (the real one hashes the template the same way). */
export function templateHash(template: Template): string {
  return createHash("sha256").update(JSON.stringify(template)).digest("hex").slice(0, 10);
}

function portsFree(ip: string, ports: number[]): Promise<boolean> {
  return ports.reduce(
    (ok, port) =>
      ok.then(
        (free) =>
          free &&
          new Promise<boolean>((resolve) => {
            const server = createServer();
            server.once("error", () => resolve(false));
            server.listen(port, ip, () => server.close(() => resolve(true)));
          }),
      ),
    Promise.resolve(true),
  );
}
