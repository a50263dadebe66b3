// The kubelet of the pod simulator: the pods on this one node and their gateway processes. It gives each pod a
// loopback IP (127.0.10.N, RTGW_HOST) whose container ports are free, resolves the container's env (kubelet-env.ts;
// a missing Secret keeps the pod Pending, retried), starts `gateway/src/main.ts`, probes /readyz into the Ready
// condition (terminating pods too, so a draining pod turns not Ready), restarts a crashed container, and
// terminates gracefully: preStop sleep, SIGTERM, SIGKILL when the grace period ends, then deletes the pod object
// with gracePeriodSeconds=0. Which pods exist is the ReplicaSet's business (pod-simulator.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { collection, type KubeRest } from "./kube-rest.js";
import { type ContainerSpec, PendingError, resolveEnv } from "./kubelet-env.js";
import { mountVolumes, type Volume } from "./kubelet-volumes.js";
import type { RankedPod } from "./replicaset-order.js";
import type { PodSecurityContext } from "./volume-access.js";

export interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: ContainerSpec[];
    terminationGracePeriodSeconds?: number;
    volumes?: Volume[];
    securityContext?: PodSecurityContext;
  };
}

export interface SimPod extends RankedPod {
  deployment: string;
  hash: string;
  ip: string;
  httpPort: number;
  proc: ChildProcess | undefined;
  terminating: boolean;
  exited: Promise<void> | undefined;
  log: WriteStream | undefined;
}

export type PodEvent =
  | { kind: "created"; at: number; pod: string; ip: string }
  | { kind: "ready" | "unready"; at: number; pod: string }
  | { kind: "deleting"; at: number; pod: string; deletionCost: number; others: number[]; reason: string }
  | { kind: "exited"; at: number; pod: string; code: number | null; signal: string | null };

export interface KubeletOptions {
  api: KubeRest;
  namespace: string;
  /** Repository root (where gateway/src/main.ts lives). */
  rootDir: string;
  /** Pod IPs are `${ipPrefix}${n}`, n = 2..254 round robin (a drained IP is not reused at once). */
  ipPrefix?: string;
  /** Per-pod stdout/stderr files go here (none when undefined). */
  logDir?: string;
  /** Extra env for every gateway process (e.g. RTGW_LOG_LEVEL). */
  extraEnv?: Record<string, string>;
  onEvent?: (e: PodEvent) => void;
}

export class Kubelet {
  /** The pods on this node, by name (terminating ones until their process is gone). */
  readonly pods = new Map<string, SimPod>();
  private nextIp = 2;
  private volumes: string | undefined;
  private stopped = false;
  private readonly api: KubeRest;
  private readonly ns: string;

  constructor(private readonly o: KubeletOptions) {
    this.api = o.api;
    this.ns = o.namespace;
    if (o.logDir) mkdirSync(o.logDir, { recursive: true });
    process.once("exit", this.killAll);
  }

  /** Last resort when the harness dies: no gateway outlives it. */
  private readonly killAll = () => {
    for (const p of this.pods.values()) p.proc?.kill("SIGKILL");
  };

  /** The next pod IP not used by a pod of ours and whose ports are free (a leftover process may hold one). */
  async allocateIp(ports: number[]): Promise<string> {
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

  /** A pod the ReplicaSet has just created (object in the API): ContainerCreating, then its container. */
  async run(pod: SimPod, template: Template): Promise<void> {
    pod.log = this.o.logDir ? createWriteStream(join(this.o.logDir, `${pod.name}.log`)) : undefined;
    this.pods.set(pod.name, pod);
    this.o.onEvent?.({ kind: "created", at: pod.createdAt, pod: pod.name, ip: pod.ip });
    await this.writePodStatus(pod, "ContainerCreating");
    await this.startContainer(pod, template);
  }

  /** Starts the pod's container once its env resolves (until then: CreateContainerConfigError, Pending). */
  async startContainer(pod: SimPod, template: Template): Promise<void> {
    const container = template.spec.containers[0] as ContainerSpec;
    let env: Record<string, string>;
    try {
      env = await resolveEnv(this.api, this.ns, pod, container);
      // ConfigMap and Secret volumes as files under the pod's directory; paths to them in env follow.
      const podDir = join(this.volumesDir(), pod.name);
      const remap = await mountVolumes(
        this.api,
        this.ns,
        podDir,
        template.spec.volumes ?? [],
        container.volumeMounts ?? [],
        { pod: template.spec.securityContext, container: container.securityContext },
      );
      env = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, remap(v)]));
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

  /** Where pods' volumes are written: under the log directory, or a temporary one removed at exit. */
  private volumesDir(): string {
    if (!this.volumes) {
      this.volumes = this.o.logDir
        ? join(this.o.logDir, "volumes")
        : mkdtempSync(join(tmpdir(), "rtgw-volumes-"));
      if (!this.o.logDir) {
        const dir = this.volumes;
        process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
      }
    }
    return this.volumes;
  }

  private spawnGateway(pod: SimPod, env: Record<string, string>): void {
    // RTGW_DEV_GATEWAY_CPU_PROF=DIR: each gateway process writes a V8 CPU profile into DIR as it exits (a drained
    // pod exits by itself, so a rollout's old pods leave one covering their drain).
    const profileDir = process.env.RTGW_DEV_GATEWAY_CPU_PROF;
    const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
    const child = spawn(process.execPath, [...profile, "--import", "tsx", "gateway/src/main.ts"], {
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
        pod.proc = undefined;
        if (pod.terminating || this.stopped) {
          // terminate() (or stop()) finishes the pod.
          if (this.stopped) pod.log?.end();
        } else {
          // restartPolicy Always: the kubelet restarts the container (here after a second, no backoff growth).
          pod.restarts++;
          setTimeout(() => {
            if (!pod.terminating && !this.stopped && !pod.proc) this.spawnGateway(pod, env);
          }, 1000);
        }
        resolve();
      });
    });
  }

  /**
   * Graceful termination of a pod already marked terminating (its object marked for deletion), with the grace
   * period the API server recorded on it; `fallbackSpec` when the object is gone already (a force delete).
   * Returns at once; the pod leaves `pods` when its process has gone.
   */
  async terminate(pod: SimPod, fallbackSpec: () => Promise<Template["spec"] | undefined>): Promise<void> {
    const path = `${collection("v1", "pods", this.ns)}/${pod.name}`;
    const live = await this.api.get(path);
    const spec = (live?.spec as Template["spec"] | undefined) ?? (await fallbackSpec());
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
      if (this.volumes) rmSync(join(this.volumes, pod.name), { recursive: true, force: true });
      pod.log?.end();
      // The containers are gone: the kubelet finishes the deletion.
      await this.api.delete(`${path}?gracePeriodSeconds=0`).catch(() => {});
    })();
  }

  /** One round of readiness probes (GET /readyz) over every pod with a process. */
  async probe(): Promise<void> {
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

  /** Kills every gateway (SIGKILL after a short SIGTERM grace): the node goes away. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
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
