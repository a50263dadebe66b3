// The cluster in a box: the dev cluster (dev-cluster/cluster.ts: API server enforcing the chart's RBAC, the real
// operator as its own process with its ServiceAccount token, the pod simulator running real gateway processes on
// 127.0.10.N, real Redis) + client processes on the client SDK behind the
// Service stand-in + an HTTP publisher. Drives a scenario, samples a timeline every second, and returns the facts.
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { startCluster } from "../../dev-cluster/cluster.js";
import { collection } from "../../dev-cluster/kube-rest.js";
import type { PodEvent } from "../../dev-cluster/pod-simulator.js";
import { startEndpointsFeed } from "../../dev-cluster/service.js";
import { sourceAddresses } from "../../loadtest/src/load/plan.js";
import { PRE_STOP_SECONDS } from "../../operator/src/render/deployment.js";
import type { ClientResult, ClientTick, SecondCounts } from "./clients.js";
import { busyShare, coresByKind, cpuSecondsByKind, machineCpu } from "./machine-cpu.js";
import { podConnections, recordPodRemovals } from "./pod-removals.js";
import type { ClientTotals, EventCounts, RunFacts, Sample, ScalingEvent } from "./report.js";
import { recordExits, rollOut } from "./rollout.js";
import type { RolloutFacts } from "./rollout-report.js";
import { expectedReplicas, type Scenario } from "./scenario.js";

/** A sample as the sampler takes it: everything but the per-second event counts. */
type LiveSample = Omit<Sample, keyof EventCounts>;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NS = "e2e";
const NAME = "chat";

export interface RunOptions {
  /** Where pod and operator logs go (kept for a failed run). */
  logDir?: string;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScenario(sc: Scenario, opts: RunOptions = {}): Promise<RunFacts> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const work = mkdtempSync(join(tmpdir(), "rtgw-e2e-"));
  const logDir = opts.logDir ?? join(work, "logs");
  mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();
  const at = () => Math.round((Date.now() - t0) / 1000);
  const deadline = t0 + sc.timeLimitSeconds * 1000;
  const cleanups: (() => Promise<void> | void)[] = [];
  const children: ChildProcess[] = [];
  const killChildren = () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  };
  process.once("exit", killChildren);

  try {
    // ---- the cluster: API server enforcing the chart's RBAC (namespace scope), Redis, the operator as the chart
    // runs it (plus a faster autoscaler), kube-controller-manager + kubelet (dev-cluster/cluster.ts) ----------------
    // `sim` is read only once a pod is being deleted, long after it is assigned below.
    const removals = recordPodRemovals(() => sim.running(), at, log);
    const deletions = removals.deletions;
    const podExits = recordExits(at);
    const onEvent = (e: PodEvent) => {
      podExits.onPodEvent(e);
      if (e.kind === "deleting") removals.onDeleting(e);
      if (e.kind === "exited" && e.code !== 0)
        log(`  t=${at()}s pod ${e.pod} exited code=${e.code} signal=${e.signal}`);
    };
    const cluster = await startCluster({
      rootDir: ROOT,
      workDir: work,
      logDir,
      releaseNamespace: NS,
      chartSet: ["operator.scope=namespace"],
      operatorEnv: {
        RTGW_AUTOSCALER_INTERVAL_SECONDS: String(sc.autoscalerIntervalSeconds),
        RTGW_AUTOSCALER_SCRAPE_TIMEOUT_SECONDS: String(Math.min(2, sc.autoscalerIntervalSeconds)),
        RTGW_REBALANCE_SUSTAIN_SECONDS: String(sc.rebalanceSustainSeconds),
        RTGW_REBALANCE_ROUND_SECONDS: String(sc.rebalanceRoundSeconds),
        RTGW_REBALANCE_SPREAD_FRACTION: String(sc.rebalanceSpreadFraction),
        RTGW_REBALANCE_MAX_SHED_FRACTION: String(sc.rebalanceMaxShedFraction),
      },
      onPodEvent: (_ns, e) => onEvent(e),
    });
    cleanups.push(() => cluster.stop());
    const { operator, operatorLog, admin: rest } = cluster;
    const sim = cluster.simulate(NS);
    const jwtSecret = "e2e-jwt-secret-0123456789abcdef-0123";
    await rest.create(collection("v1", "secrets", NS), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "chat-jwt", namespace: NS },
      data: { secret: Buffer.from(jwtSecret).toString("base64") },
    });
    // The backends' publish key (RTGW_API_KEY); the operator's admin key is a different Secret it makes itself.
    const apiKey = "e2e-publish-key-0123456789";
    await rest.create(collection("v1", "secrets", NS), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "chat-api", namespace: NS },
      data: { key: Buffer.from(apiKey).toString("base64") },
    });
    await rest.create(collection("rtgw.dev/v1alpha1", "realtimegateways", NS), {
      apiVersion: "rtgw.dev/v1alpha1",
      kind: "RealtimeGateway",
      metadata: { name: NAME, namespace: NS },
      spec: {
        image: "rtgw:e2e",
        replicas: sc.minReplicas,
        autoscaling: {
          enabled: true,
          minReplicas: sc.minReplicas,
          maxReplicas: sc.maxReplicas,
          targetConnectionsPerPod: sc.target,
          tolerance: 0.1,
          scaleUpStabilizationSeconds: 0,
          scaleDownStabilizationSeconds: sc.scaleDownStabilizationSeconds,
          scaleDown: { pods: sc.scaleDownPods, periodSeconds: sc.scaleDownPeriodSeconds },
        },
        drain: { seconds: sc.drainSeconds },
        redis: { url: cluster.redis.url },
        auth: { jwtSecretRef: { name: "chat-jwt", key: "secret" } },
        apiKeySecretRef: { name: "chat-api", key: "key" },
        // A pod past 1.8 × target turns unready ("full") so new clients go elsewhere (and stays below the 20,000
        // open files a process may have here).
        limits: { maxConnectionsPerPod: Math.round(sc.target * 1.8) },
      },
    });
    const feed = await startEndpointsFeed(() => sim.endpoints());
    cleanups.push(() => feed.close());

    log(`t=${at()}s waiting for ${sc.minReplicas} ready gateway pod(s)`);
    while (sim.endpoints().length < sc.minReplicas) {
      if (operator.exitCode !== null)
        throw new Error(`the operator exited (${operator.exitCode}); see ${operatorLog}`);
      if (Date.now() > t0 + 90_000) {
        const gw = await rest.get(`${collection("rtgw.dev/v1alpha1", "realtimegateways", NS)}/${NAME}`);
        const deployments = await rest.list(collection("apps/v1", "deployments", NS));
        throw new Error(
          `no ready pods after 90 s (deployments: ${deployments.map((d) => d.metadata.name).join(", ") || "none"}; status: ${JSON.stringify(gw?.status)}); see ${logDir}`,
        );
      }
      await sleep(250);
    }
    const adminSecret = await rest.get(`${collection("v1", "secrets", NS)}/${NAME}-admin`);
    if (!adminSecret?.data?.["api-key"]) throw new Error("the operator did not create the admin Secret");
    log(`t=${at()}s ${sim.endpoints().length} pod(s) ready`);

    // ---- clients -----------------------------------------------------------------------------------
    const channels = Array.from({ length: sc.channels }, (_, i) => `e2e:ch${i}`);
    const token = await new SignJWT({ channels: { subscribe: ["e2e:*"], publish: [] } })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("e2e")
      .setExpirationTime("2h")
      .sign(new TextEncoder().encode(jwtSecret));
    const perProcess = Math.ceil(sc.peak / sc.processes);
    const perSecond = new Map<number, SecondCounts>();
    const lastTick = new Map<number, ClientTick>();
    const results: ClientResult[] = [];
    const workers = await Promise.all(
      Array.from({ length: sc.processes }, async (_, i) => {
        const child = fork(join(ROOT, "test/e2e/clients.ts"), [], {
          cwd: ROOT,
          execArgv: ["--import", "tsx", "--max-old-space-size=2048"],
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        children.push(child);
        const ready = new Promise<void>((resolveReady) => {
          child.on("message", (m: unknown) => {
            const msg = m as ClientTick | ClientResult | { type: "ready" };
            if (msg.type === "ready") resolveReady();
            else if (msg.type === "tick") {
              lastTick.set(i, msg);
              for (const c of msg.seconds) {
                const sum = perSecond.get(c.t) ?? {
                  t: c.t,
                  reconnects: 0,
                  moveNotices: 0,
                  messages: 0,
                  failedConnects: 0,
                };
                sum.reconnects += c.reconnects;
                sum.moveNotices += c.moveNotices;
                sum.messages += c.messages;
                sum.failedConnects += c.failedConnects;
                perSecond.set(c.t, sum);
              }
            } else if (msg.type === "result") results.push(msg);
          });
        });
        child.send({
          type: "config",
          feedUrl: feed.url,
          serviceUrl: `ws://${NAME}.${NS}.svc/ws`,
          token,
          channels,
          localAddresses: sourceAddresses(i, perProcess),
          channelOffset: i * perProcess,
          t0,
        });
        await ready;
        return child;
      }),
    );
    cleanups.push(async () => {
      for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
    });

    // ---- publisher ---------------------------------------------------------------------------------
    const finalOffsets: Record<string, number> = {};
    let published = 0;
    let publishErrors = 0;
    let publishing = true;
    const publisher = (async () => {
      let n = 0;
      const start = Date.now();
      while (publishing) {
        const due = Math.floor(((Date.now() - start) / 1000) * sc.publishPerSecond);
        const batch: Promise<void>[] = [];
        while (n < due) {
          const channel = channels[n % channels.length] as string;
          const seq = n++;
          batch.push(
            (async () => {
              for (let attempt = 0; attempt < 3; attempt++) {
                const eps = sim.endpoints();
                const ep = eps[Math.floor(Math.random() * eps.length)];
                if (!ep) {
                  await sleep(100);
                  continue;
                }
                try {
                  const res = await fetch(`http://${ep.ip}:${ep.port}/api/publish`, {
                    method: "POST",
                    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
                    body: JSON.stringify({ channel, data: { seq, at: Date.now() } }),
                    signal: AbortSignal.timeout(3000),
                  });
                  if (res.ok) {
                    const body = (await res.json()) as { offset: number };
                    finalOffsets[channel] = Math.max(finalOffsets[channel] ?? 0, body.offset);
                    published++;
                    return;
                  }
                  await res.body?.cancel();
                } catch {
                  // a pod going away: try another one
                }
                publishErrors++;
              }
            })(),
          );
        }
        await Promise.all(batch);
        await sleep(50);
      }
    })();

    // ---- sampler -----------------------------------------------------------------------------------
    // The event counts come from the client processes' per-second counts at the end (a tick can reach us late).
    const samples: LiveSample[] = [];
    let phase = "start";
    const phases: RunFacts["phases"] = [];
    const enter = (name: string) => {
      const last = phases.at(-1);
      if (last) last.to = at();
      phases.push({ name, from: at(), to: at() });
      phase = name;
      log(`t=${at()}s phase: ${name}`);
    };
    let sampling = true;
    let cpuBefore = machineCpu();
    let kindsBefore = { at: Date.now(), cpu: cpuSecondsByKind() };
    const sampler = (async () => {
      while (sampling) {
        const second = at();
        const cpuNow = machineCpu();
        const cpuBusy = busyShare(cpuBefore, cpuNow);
        cpuBefore = cpuNow;
        const kindsNow = { at: Date.now(), cpu: cpuSecondsByKind() };
        const cores = coresByKind(kindsBefore.cpu, kindsNow.cpu, (kindsNow.at - kindsBefore.at) / 1000);
        kindsBefore = kindsNow;
        const gw = await rest
          .get(`${collection("rtgw.dev/v1alpha1", "realtimegateways", NS)}/${NAME}`)
          .catch(() => undefined);
        const running = sim.running();
        const pods: Record<string, number> = {};
        await Promise.all(
          running.map(async (p) => {
            const n = await podConnections(p);
            if (n !== undefined) pods[p.pod] = n; // else starting or gone
          }),
        );
        const clientTicks = [...lastTick.values()];
        samples.push({
          t: second,
          phase,
          replicas: ((gw?.spec as { replicas?: number } | undefined)?.replicas ?? 0) as number,
          readyPods: running.filter((p) => p.ready && !p.terminating).length,
          pods,
          clientsOpen: clientTicks.reduce((a, c) => a + c.open, 0),
          clientsConnected: clientTicks.reduce((a, c) => a + c.connected, 0),
          published,
          gaps: clientTicks.reduce((a, c) => a + c.gaps, 0),
          duplicated: clientTicks.reduce((a, c) => a + c.duplicated, 0),
          outOfOrder: clientTicks.reduce((a, c) => a + c.outOfOrder, 0),
          clientLoopDelayMaxMs: clientTicks.reduce((m, c) => Math.max(m, c.loopDelayMaxMs), 0),
          clientHeapMaxMb: clientTicks.reduce((m, c) => Math.max(m, c.heapUsedMb), 0),
          machineCpuBusy: cpuBusy,
          coresByKind: cores,
        });
        const s = samples.at(-1) as LiveSample;
        if (second % 5 === 0) {
          const total = Object.values(pods).reduce((a, b) => a + b, 0);
          const scaling = (
            (gw?.status as { conditions?: { type: string; message: string }[] } | undefined)?.conditions ?? []
          ).find((c) => c.type === "Scaling");
          if (scaling) log(`  autoscaler: ${scaling.message}`);
          log(
            `  t=${second}s replicas=${s.replicas} ready=${s.readyPods} conns=${total} [${Object.keys(pods)
              .sort()
              .map((k) => pods[k])
              .join(
                " ",
              )}] clients=${s.clientsConnected}/${s.clientsOpen} reconnects/s=${clientTicks.reduce((a, c) => a + c.reconnects, 0)} published=${published}`,
          );
        }
        const next = t0 + (second + 1) * 1000;
        await sleep(Math.max(50, next - Date.now()));
      }
    })();

    // ---- the scenario ------------------------------------------------------------------------------
    enter("ramp up");
    await Promise.all(
      workers.map(async (w) =>
        w.send({ type: "open", count: perProcess, perSecond: perProcess / sc.rampSeconds }),
      ),
    );
    await sleep(sc.rampSeconds * 1000);
    enter("hold");
    await sleep(sc.holdSeconds * 1000);
    enter("rollout");
    // E2E_CLIENT_CPU_PROF=DIR: a V8 CPU profile of each client process over the rollout, for when the harness
    // itself is the limit.
    const profileDir = process.env.E2E_CLIENT_CPU_PROF;
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      for (const w of workers) w.send({ type: "profile-start" });
    }
    const rollout = await rollOutAtFullLoad(sc, { rest, running: () => sim.running(), at, log }, podExits);
    if (profileDir)
      for (const [i, w] of workers.entries())
        w.send({ type: "profile-stop", file: resolve(profileDir, `clients-${i}-rollout.cpuprofile`) });
    enter("ramp down");
    const closePerProcess = Math.round(perProcess * 0.75);
    for (const w of workers) {
      if (!w.connected) throw new Error("a client process died");
      w.send({ type: "close", count: closePerProcess, perSecond: closePerProcess / sc.rampDownSeconds });
    }
    await sleep(sc.rampDownSeconds * 1000);
    enter("scale down");
    const remaining = sc.processes * (perProcess - closePerProcess);
    const want = expectedReplicas(sc, remaining);
    const settleBy = Math.min(deadline - 20_000, Date.now() + sc.settleSeconds * 1000);
    let settledAt: number | undefined;
    while (Date.now() < settleBy) {
      const last = samples.at(-1);
      const running = sim.running();
      const done =
        last !== undefined &&
        last.replicas === want &&
        running.length === want &&
        running.every((p) => !p.terminating);
      if (done && settledAt === undefined) settledAt = Date.now();
      if (!done) settledAt = undefined;
      // Stay a few seconds after the last drain so late reconnects and deliveries are in the figures.
      if (settledAt !== undefined && Date.now() - settledAt > 5_000) break;
      await sleep(500);
    }
    enter("verify");
    publishing = false;
    await publisher;
    await sleep(3000); // in-flight deliveries
    const finished = new Promise<void>((resolveDone) => {
      const check = setInterval(() => {
        if (results.length === workers.length) {
          clearInterval(check);
          resolveDone();
        }
      }, 100);
      setTimeout(() => {
        clearInterval(check);
        resolveDone();
      }, 20_000);
    });
    for (const w of workers) if (w.connected) w.send({ type: "finish", finalOffsets });
    await finished;
    sampling = false;
    await sampler;
    await removals.settled();
    const lastPhase = phases.at(-1);
    if (lastPhase) lastPhase.to = at();
    // Per-second counts by when each event happened in the client processes (a tick can reach us late, or two
    // can fold into one second when a client process's event loop is busy).
    const timeline: Sample[] = samples.map((s) => {
      const c = perSecond.get(s.t);
      return {
        ...s,
        reconnects: c?.reconnects ?? 0,
        moveNotices: c?.moveNotices ?? 0,
        messages: c?.messages ?? 0,
        failedConnects: c?.failedConnects ?? 0,
      };
    });

    const eventList = await rest.list(collection("v1", "events", NS));
    const events: ScalingEvent[] = eventList
      .map((e) => {
        const ev = e as unknown as {
          reason?: string;
          message?: string;
          firstTimestamp?: string;
          eventTime?: string;
        };
        const when = Date.parse(ev.firstTimestamp ?? ev.eventTime ?? "");
        return {
          t: Number.isFinite(when) ? Math.round((when - t0) / 1000) : -1,
          reason: ev.reason ?? "",
          message: ev.message ?? "",
        };
      })
      .filter((e) => ["ScaledUp", "ScaledDown", "Rebalancing"].includes(e.reason))
      .sort((a, b) => a.t - b.t);

    const clients: ClientTotals = results.reduce(
      (a, r) => ({
        clients: a.clients + r.clients,
        received: a.received + r.received,
        lost: a.lost + r.lost,
        duplicated: a.duplicated + r.duplicated,
        outOfOrder: a.outOfOrder + r.outOfOrder,
        resyncs: a.resyncs + r.resyncs,
        failedSubscriptions: a.failedSubscriptions + r.failedSubscriptions,
        reconnects: a.reconnects + r.reconnects,
      }),
      {
        clients: 0,
        received: 0,
        lost: 0,
        duplicated: 0,
        outOfOrder: 0,
        resyncs: 0,
        failedSubscriptions: 0,
        reconnects: 0,
      },
    );
    if (results.length !== workers.length) {
      throw new Error(`only ${results.length} of ${workers.length} client processes reported`);
    }
    return {
      scenario: sc.name,
      startedAt: new Date(t0).toISOString(),
      target: sc.target,
      minReplicas: sc.minReplicas,
      maxReplicasBound: sc.maxReplicas,
      drainSeconds: sc.drainSeconds,
      preStopSeconds: PRE_STOP_SECONDS,
      samples: timeline,
      deletions,
      events,
      clients,
      published,
      publishErrors,
      phases,
      rbacDenials: cluster.rbac.denials.map((d) => d.message),
      rollout,
    };
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        log(`cleanup: ${(err as Error).message}`);
      }
    }
    killChildren();
    process.removeListener("exit", killChildren);
    if (!opts.logDir) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The rolling deploy phase: a new image at full load, then a few seconds more so the last drained clients'
 * reconnects and deliveries are in the samples before the ramp-down starts.
 */
async function rollOutAtFullLoad(
  sc: Scenario,
  io: Pick<Parameters<typeof rollOut>[0], "rest" | "running" | "at" | "log">,
  podExits: ReturnType<typeof recordExits>,
): Promise<RolloutFacts> {
  const facts = await rollOut(
    { ...io, namespace: NS, name: NAME, timeoutSeconds: sc.rolloutTimeoutSeconds },
    podExits.exits,
  );
  await sleep(sc.rolloutSettleSeconds * 1000);
  return facts;
}
