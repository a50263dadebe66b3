// The autoscaling controller: every few seconds, for each RealtimeGateway with autoscaling enabled,
//   gather (the gateway and its pods from informer caches, rtgw_connections of each running pod) → decide (pure
//   autoscaler) → write spec.replicas through the scale subresource when it changes → status fields it owns
//   (status.ts) → an Event with the numbers behind each scale → pod-deletion-cost on each pod → rebalance (shed
//   from the fullest pods) when the fleet is at rest but skewed.
// With autoscaling disabled it writes nothing to the RealtimeGateway: spec.replicas (kubectl scale) drives the fleet.
// It only acts while this operator holds the leader Lease (main.ts starts and stops it).
import { API_VERSION, KIND, parseRealtimeGateway, type RealtimeGateway } from "../../api/realtimegateway.js";
import { METRICS_PORT } from "../../render/configmap.js";
import { APP_NAME, selectorLabels } from "../../render/labels.js";
import { EventRecorder } from "../../runtime/events.js";
import { Informer } from "../../runtime/informer.js";
import { errText, isConflict, type Kube, type KubeObject } from "../../runtime/kube.js";
import type { Logger } from "../../runtime/log.js";
import { GATEWAY_RESOURCE, POD_RESOURCE } from "../../runtime/resources.js";
import { readAdminKey } from "./admin-key.js";
import { decide, EMPTY_HISTORY, type ScalingDecision, type ScalingHistory } from "./autoscaler.js";
import { deletionCostUpdates, POD_DELETION_COST, replacedPods } from "./deletion-cost.js";
import { podAddress, scrapeConnections } from "./pod-metrics.js";
import { type PodView, podSummary, podsOf } from "./pods.js";
import {
  INITIAL_REBALANCE,
  type RebalanceDecision,
  type RebalanceSpec,
  type RebalanceState,
  rebalance,
} from "./rebalance.js";
import { type AutoscalingSettings, DEFAULT_AUTOSCALING_SETTINGS } from "./settings.js";
import { sendShedOrders } from "./shed.js";
import { autoscalerSpec } from "./spec.js";
import { nextAutoscalingStatus } from "./status.js";

export { scalingCondition } from "./status.js";
export { autoscalerSpec };

/** The slice of the API client the autoscaler uses. */
export type AutoscalingKube = Pick<
  Kube,
  | "list"
  | "watch"
  | "getGateway"
  | "replaceGatewayStatus"
  | "scaleGateway"
  | "annotatePod"
  | "readSecretKey"
  | "createEvent"
>;

export interface AutoscalingControllerOptions {
  kube: AutoscalingKube;
  /** Watch one namespace; all when undefined. */
  namespace?: string | undefined;
  intervalMs?: number;
  scrapeTimeoutMs?: number;
  rebalance?: RebalanceSpec;
  /** The gateway container's internal port, /metrics and /admin/* (default: what render/ gives the pods). */
  metricsPort?: number;
  logger: Logger;
  /** Tunables not given above (parsed from RTGW_AUTOSCALER_*, RTGW_REBALANCE_* at start; default: their defaults). */
  settings?: AutoscalingSettings;
  now?: () => number;
  fetch?: typeof fetch;
  /** Called after each gateway's pass, with what was decided (tests, the e2e timeline). */
  onDecision?: (gw: RealtimeGateway, d: ScalingDecision, r: RebalanceDecision | undefined) => void;
}

interface GatewayState {
  history: ScalingHistory;
  rebalance: RebalanceState;
  lastScaleTime: string | undefined;
}

/** Gateway pods carry the chart-independent name label; each gateway's own pods are picked by its selector. */
const POD_SELECTOR = `app.kubernetes.io/name=${APP_NAME}`;

export class AutoscalingController {
  readonly gateways: Informer;
  readonly pods: Informer;
  private readonly kube: AutoscalingKube;
  private readonly log: Logger;
  private readonly events: EventRecorder;
  private readonly intervalMs: number;
  private readonly scrapeTimeoutMs: number;
  private readonly rebalanceSpec: RebalanceSpec;
  private readonly metricsPort: number;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly states = new Map<string, GatewayState>();
  private synced: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: AutoscalingControllerOptions) {
    this.kube = options.kube;
    this.log = options.logger;
    const settings = options.settings ?? DEFAULT_AUTOSCALING_SETTINGS;
    this.intervalMs = options.intervalMs ?? settings.intervalMs;
    this.scrapeTimeoutMs = options.scrapeTimeoutMs ?? Math.min(settings.scrapeTimeoutMs, this.intervalMs);
    this.rebalanceSpec = options.rebalance ?? settings.rebalance;
    this.metricsPort = options.metricsPort ?? METRICS_PORT;
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? fetch;
    // Every scale Event carries its own numbers: record each one (no de-duplication window).
    this.events = new EventRecorder(this.kube, this.log, 0);
    const onError = (what: string) => (err: unknown, phase: string) =>
      this.log.warn({ err: errText(err), phase }, `autoscaler: ${what} informer`);
    // The passes run on the interval, not on events: the caches only replace a list per pass.
    this.gateways = new Informer({
      client: this.kube,
      resource: GATEWAY_RESOURCE,
      namespace: options.namespace,
      onEvent: () => {},
      onError: onError("RealtimeGateway"),
    });
    this.pods = new Informer({
      client: this.kube,
      resource: POD_RESOURCE,
      namespace: options.namespace,
      labelSelector: POD_SELECTOR,
      transform: podSummary,
      onEvent: () => {},
      onError: onError("Pod"),
    });
  }

  /** Run a pass once the caches synced and then every interval, until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      this.running = this.tick();
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
    };
    void loop();
  }

  /** Stop (e.g. on losing the Lease); resolves when the pass in flight finished. History is forgotten, as HPA's. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([this.gateways.stop(), this.pods.stop()]);
    await this.running;
    this.states.clear();
  }

  /** Starts the informers (once) and resolves when both caches hold their first list (or they were stopped). */
  sync(): Promise<void> {
    this.synced ??= Promise.all([this.gateways.start(), this.pods.start()]).then(() => undefined);
    return this.synced;
  }

  /** One pass over every RealtimeGateway in the cache. Never throws. */
  async tick(): Promise<void> {
    await this.sync();
    if (!this.gateways.hasSynced || !this.pods.hasSynced) return;
    const seen = new Set<string>();
    for (const raw of this.gateways.list()) {
      const parsed = parseRealtimeGateway(raw);
      if (!parsed.ok) continue; // the reconciler reports it as Degraded
      const gw = parsed.gateway;
      seen.add(gw.metadata.uid);
      try {
        await this.pass(gw, raw);
      } catch (err) {
        this.log.warn(
          { err: errText(err), gateway: `${gw.metadata.namespace}/${gw.metadata.name}` },
          "autoscaler pass failed",
        );
      }
    }
    for (const uid of this.states.keys()) if (!seen.has(uid)) this.states.delete(uid);
  }

  private state(gw: RealtimeGateway): GatewayState {
    let s = this.states.get(gw.metadata.uid);
    if (!s) {
      s = { history: EMPTY_HISTORY, rebalance: INITIAL_REBALANCE, lastScaleTime: undefined };
      this.states.set(gw.metadata.uid, s);
    }
    return s;
  }

  private async pass(gw: RealtimeGateway, raw: KubeObject): Promise<void> {
    if (gw.metadata.deletionTimestamp) return;
    const st = this.state(gw);
    if (!gw.spec.autoscaling.enabled) {
      st.history = EMPTY_HISTORY;
      st.rebalance = INITIAL_REBALANCE;
      return;
    }
    const ns = gw.metadata.namespace;
    const pods = podsOf(this.pods.list(ns), ns, selectorLabels(gw));
    // HPA's grouping for a pods metric: a Pending pod is "unready" (left out; empty on a scale-up), a running
    // pod counts with its metric even when not Ready. That matters here: a gateway that is full (or briefly
    // without its broker) fails readiness while holding thousands of clients; dropping them from the signal
    // would scale the fleet down exactly when it is fullest.
    // A deleting pod is scraped too: the clients it still holds are moving to the others (demand, not capacity).
    const targets = pods
      .filter((p) => p.running && p.podIP !== undefined)
      .map((p) => ({ pod: p.name, address: podAddress(p.podIP as string, this.metricsPort) }));
    const metrics = await scrapeConnections(targets, { timeoutMs: this.scrapeTimeoutMs, fetch: this.fetch });
    const connectionsOf = (p: PodView) => (p.running ? metrics.get(p.name) : undefined);

    const now = this.now();
    const current = gw.spec.replicas;
    const decision = decide({
      history: st.history,
      pods: pods.map((p) => ({
        name: p.name,
        ready: p.running,
        deleting: p.deleting,
        connections: connectionsOf(p),
      })),
      currentReplicas: current,
      spec: autoscalerSpec(gw.spec.autoscaling),
      now,
      // Old pods still draining count: the rollout's last drain is its last wave of reconnects, and a scale-down
      // then would stack another pod's drain onto it.
      rollingUpdate: replacedPods(pods).size > 0,
    });
    st.history = decision.newHistory;
    const scaled = decision.desiredReplicas !== current;
    if (scaled) {
      const rv = await this.kube.scaleGateway(ns, gw.metadata.name, decision.desiredReplicas);
      // Only a scale that was written counts against the rate policies (HPA's storeScaleEvent after the update).
      st.history = decision.historyAfterScale;
      // Our own write, seen before its watch event: the next pass must not scale from the old count.
      if (rv !== undefined) {
        const spec = { ...(raw.spec as object), replicas: decision.desiredReplicas };
        this.gateways.observe({ ...raw, metadata: { ...raw.metadata, resourceVersion: rv }, spec });
      }
      st.lastScaleTime = new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z");
      this.log.info({ gateway: gw.metadata.name, ...decisionLog(decision) }, "scaled");
      await this.event(gw, decision.reason === "ScaleUp" ? "ScaledUp" : "ScaledDown", decision.message);
    }
    await this.writeStatus(gw, decision, st.lastScaleTime);
    await this.updateDeletionCosts(gw, pods, connectionsOf);

    // Rebalance only a fleet at rest: the wanted pods all there, ready and reporting, none leaving (a shed
    // client could land on a pod that is about to drain).
    const live = pods.filter((p) => !p.deleting);
    const reporting = live
      .filter((p) => connectionsOf(p) !== undefined)
      .map((p) => ({ name: p.name, connections: connectionsOf(p) as number, podIP: p.podIP as string }));
    const terminating = pods
      .filter((p) => p.deleting)
      .map((p) => ({ name: p.name, connections: 0, terminating: true }));
    const settled = !scaled && live.length === current && reporting.length === current;
    const rb = rebalance({
      pods: [...reporting, ...terminating],
      settled,
      targetConnectionsPerPod: gw.spec.autoscaling.targetConnectionsPerPod,
      spec: this.rebalanceSpec,
      state: st.rebalance,
      now,
    });
    st.rebalance = rb.state;
    if (rb.shed.length > 0) await this.shed(gw, rb, reporting);
    this.options.onDecision?.(gw, decision, rb);
  }

  private event(gw: RealtimeGateway, reason: string, message: string): Promise<void> {
    const { name, namespace, uid, resourceVersion } = gw.metadata;
    return this.events.record({
      involved: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion },
      type: "Normal",
      reason,
      message,
    });
  }

  /**
   * Read-modify-write of the status fields this controller owns, with the resourceVersion as precondition, so the
   * reconciler's fields (replicas, readyReplicas, Ready/Degraded, ...) are never lost; a 409 re-reads and retries.
   */
  private async writeStatus(gw: RealtimeGateway, d: ScalingDecision, lastScaleTime: string | undefined) {
    const { namespace, name } = gw.metadata;
    // Compare first with the cache; write on its resourceVersion, and read the object back only on a conflict.
    let latest = this.gateways.get(namespace, name);
    for (let attempt = 0; latest && attempt < 5; attempt++) {
      const next = nextAutoscalingStatus({
        status: (latest.status ?? {}) as Record<string, unknown>,
        decision: d,
        lastScaleTime,
        generation: gw.metadata.generation,
        targetConnectionsPerPod: gw.spec.autoscaling.targetConnectionsPerPod,
        now: new Date(this.now()),
      });
      if (next === undefined) return;
      try {
        this.gateways.observe(await this.kube.replaceGatewayStatus({ ...latest, status: next }));
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        latest = await this.kube.getGateway(namespace, name);
      }
    }
    this.log.warn({ gateway: name }, "status write kept conflicting; next pass retries");
  }

  private async updateDeletionCosts(
    gw: RealtimeGateway,
    pods: PodView[],
    connectionsOf: (p: PodView) => number | undefined,
  ) {
    const live = pods.filter((p) => !p.deleting);
    const replaced = replacedPods(live);
    const updates = deletionCostUpdates(
      live.map((p) => ({
        name: p.name,
        annotations: p.annotations,
        connections: connectionsOf(p),
        replaced: replaced.has(p.name),
      })),
      gw.spec.autoscaling.targetConnectionsPerPod,
    );
    await Promise.all(
      updates.map(async (u) => {
        try {
          const written = await this.kube.annotatePod(gw.metadata.namespace, u.pod, {
            [POD_DELETION_COST]: String(u.cost),
          });
          this.pods.observe(podSummary(written));
        } catch (err) {
          this.log.debug({ err: errText(err), pod: u.pod }, "deletion cost update failed (pod gone?)");
        }
      }),
    );
  }

  private async shed(gw: RealtimeGateway, rb: RebalanceDecision, pods: { name: string; podIP: string }[]) {
    // Read when needed, not cached: the reconciler recreates the Secret if it is deleted.
    const adminKey = await readAdminKey(this.kube, gw);
    if (adminKey === undefined) {
      this.log.warn(
        { gateway: gw.metadata.name },
        "rebalance skipped: the admin-key Secret does not exist yet",
      );
      return;
    }
    const results = await sendShedOrders({
      orders: rb.shed,
      pods,
      adminKey,
      port: this.metricsPort,
      seconds: this.rebalanceSpec.roundSeconds,
      timeoutMs: this.scrapeTimeoutMs,
      fetch: this.fetch,
    });
    const message = `spread ${Math.round(rb.spread)} over mean ${Math.round(rb.mean)} (bound ${Math.round(
      rb.bound,
    )}) held ${this.rebalanceSpec.sustainSeconds}s: shedding ${results.join(", ")} over ${this.rebalanceSpec.roundSeconds}s`;
    this.log.info({ gateway: gw.metadata.name, shed: rb.shed }, "rebalancing");
    await this.event(gw, "Rebalancing", message);
  }
}

function decisionLog(d: ScalingDecision) {
  return {
    from: d.currentReplicas,
    to: d.desiredReplicas,
    recommendation: d.recommendation,
    connections: d.metrics.totalConnections,
    limitedBy: d.limitedBy,
  };
}
