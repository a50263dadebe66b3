// The autoscaling controller: every few seconds, for each RealtimeGateway with autoscaling enabled,
//   gather (pods, rtgw_connections of each ready pod) → decide (pure autoscaler) → write spec.replicas through the
//   scale subresource when it changes → status fields it owns (desiredReplicas, connections, lastScaleTime, the
//   Scaling condition) → an Event with the numbers behind each scale → pod-deletion-cost on each pod → rebalance
//   (shed from the fullest pods) when the fleet is at rest but skewed.
// With autoscaling disabled it writes nothing to the RealtimeGateway: spec.replicas (kubectl scale) drives the fleet.
// It only acts while this operator holds the leader Lease (main.ts starts and stops it).

import { setCondition } from "../api/conditions.js";
import type { Condition, RealtimeGateway, RealtimeGatewaySpec } from "../api/realtimegateway.js";
import { CONDITION_TYPES, parseRealtimeGateway } from "../api/realtimegateway.js";
import { METRICS_PORT } from "../render/configmap.js";
import { selectorString } from "../render/labels.js";
import { readAdminKey } from "./admin-key.js";
import {
  type AutoscalerSpec,
  DEFAULT_SCALE_UP_POLICIES,
  decide,
  EMPTY_HISTORY,
  HPA_SCALE_DOWN_POLICIES,
  type ScalingDecision,
  type ScalingHistory,
  type ScalingPolicy,
} from "./autoscaler.js";
import { deletionCostUpdates, POD_DELETION_COST } from "./deletion-cost.js";
import { type AutoscalingKube, isConflict, type PodView } from "./kube.js";
import { podAddress, scrapeConnections } from "./pod-metrics.js";
import {
  INITIAL_REBALANCE,
  type RebalanceDecision,
  type RebalanceSpec,
  type RebalanceState,
  rebalance,
} from "./rebalance.js";
import { autoscalingSettingsFromEnv } from "./settings.js";

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

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
  /** Tunables not given above come from here (RTGW_AUTOSCALER_*, RTGW_REBALANCE_*; default process.env). */
  env?: NodeJS.ProcessEnv;
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

/** The CR's autoscaling block in the autoscaler's terms (HPA: each policy a Pods and/or Percent rule, Max). */
export function autoscalerSpec(a: RealtimeGatewaySpec["autoscaling"]): AutoscalerSpec {
  // A rule with neither pods nor percent (e.g. only periodSeconds set) falls back to HPA's default policies for
  // that direction, with its period: HPA itself rejects a rule without policies.
  const policies = (
    p: { pods?: number | undefined; percent?: number | undefined; periodSeconds: number },
    fallback: readonly ScalingPolicy[],
  ) => {
    const out: ScalingPolicy[] = [];
    if (p.pods !== undefined) out.push({ type: "Pods", value: p.pods, periodSeconds: p.periodSeconds });
    if (p.percent !== undefined)
      out.push({ type: "Percent", value: p.percent, periodSeconds: p.periodSeconds });
    return out.length > 0 ? out : fallback.map((f) => ({ ...f, periodSeconds: p.periodSeconds }));
  };
  return {
    minReplicas: a.minReplicas,
    maxReplicas: a.maxReplicas,
    targetConnectionsPerPod: a.targetConnectionsPerPod,
    tolerance: a.tolerance,
    scaleUp: {
      stabilizationWindowSeconds: a.scaleUpStabilizationSeconds,
      selectPolicy: "Max",
      policies: policies(a.scaleUp, DEFAULT_SCALE_UP_POLICIES),
    },
    scaleDown: {
      stabilizationWindowSeconds: a.scaleDownStabilizationSeconds,
      selectPolicy: "Max",
      policies: policies(a.scaleDown, HPA_SCALE_DOWN_POLICIES),
    },
  };
}

/** The Scaling condition for a decision: True while the fleet is changing size. */
export function scalingCondition(
  d: ScalingDecision,
  readyReplicas: number | undefined,
  generation: number | undefined,
): Omit<Condition, "lastTransitionTime"> {
  const moving = d.desiredReplicas !== d.currentReplicas || (readyReplicas ?? 0) !== d.desiredReplicas;
  const reason =
    d.reason === "ScaleUp"
      ? "ScalingUp"
      : d.reason === "ScaleDown"
        ? "ScalingDown"
        : d.reason === "Steady"
          ? (d.limitedBy ?? (moving ? "WaitingForPods" : "Steady"))
          : d.reason;
  return {
    type: CONDITION_TYPES.Scaling,
    status: moving ? "True" : "False",
    reason,
    message: d.message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

type RawObject = { metadata?: { resourceVersion?: string }; status?: Record<string, unknown> } & Record<
  string,
  unknown
>;

export class AutoscalingController {
  private readonly kube: AutoscalingKube;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly scrapeTimeoutMs: number;
  private readonly rebalanceSpec: RebalanceSpec;
  private readonly metricsPort: number;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly states = new Map<string, GatewayState>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: AutoscalingControllerOptions) {
    this.kube = options.kube;
    this.log = options.logger;
    const settings = autoscalingSettingsFromEnv(options.env ?? process.env);
    this.intervalMs = options.intervalMs ?? settings.intervalMs;
    this.scrapeTimeoutMs = options.scrapeTimeoutMs ?? Math.min(settings.scrapeTimeoutMs, this.intervalMs);
    this.rebalanceSpec = options.rebalance ?? settings.rebalance;
    this.metricsPort = options.metricsPort ?? METRICS_PORT;
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? fetch;
  }

  /** Run a pass now and then every interval, until stop(). */
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
    await this.running;
    this.states.clear();
  }

  /** One pass over every RealtimeGateway. Never throws. */
  async tick(): Promise<void> {
    let raws: unknown[];
    try {
      raws = await this.kube.listGateways(this.options.namespace);
    } catch (err) {
      this.log.warn({ err }, "autoscaler: listing RealtimeGateways failed");
      return;
    }
    const seen = new Set<string>();
    for (const raw of raws) {
      const parsed = parseRealtimeGateway(raw);
      if (!parsed.ok) continue; // the reconciler reports it as Degraded
      const gw = parsed.gateway;
      seen.add(gw.metadata.uid);
      try {
        await this.pass(gw);
      } catch (err) {
        this.log.warn(
          { err, gateway: `${gw.metadata.namespace}/${gw.metadata.name}` },
          "autoscaler pass failed",
        );
      }
    }
    for (const uid of this.states.keys()) if (!seen.has(uid)) this.states.delete(uid);
  }

  private state(gw: RealtimeGateway): GatewayState {
    let s = this.states.get(gw.metadata.uid);
    if (!s) {
      s = {
        history: EMPTY_HISTORY,
        rebalance: INITIAL_REBALANCE,
        lastScaleTime: undefined,
      };
      this.states.set(gw.metadata.uid, s);
    }
    return s;
  }

  private async pass(gw: RealtimeGateway): Promise<void> {
    if (gw.metadata.deletionTimestamp) return;
    const st = this.state(gw);
    if (!gw.spec.autoscaling.enabled) {
      st.history = EMPTY_HISTORY;
      st.rebalance = INITIAL_REBALANCE;
      return;
    }
    const ns = gw.metadata.namespace;
    const pods = await this.kube.listPods(ns, selectorString(gw));
    // HPA's grouping for a pods metric: a Pending pod is "unready" (left out; empty on a scale-up), a running
    // pod counts with its metric even when not Ready. That matters here: a gateway that is full (or briefly
    // without its broker) fails readiness while holding thousands of clients; dropping them from the signal
    // would scale the fleet down exactly when it is fullest.
    const targets = pods
      .filter((p) => p.running && !p.deleting && p.podIP !== undefined)
      .map((p) => ({ pod: p.name, address: podAddress(p.podIP as string, this.metricsPort) }));
    const metrics = await scrapeConnections(targets, { timeoutMs: this.scrapeTimeoutMs, fetch: this.fetch });
    const connectionsOf = (p: PodView) => (p.running && !p.deleting ? metrics.get(p.name) : undefined);

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
    });
    st.history = decision.newHistory;
    const scaled = decision.desiredReplicas !== current;
    if (scaled) {
      await this.kube.scale(ns, gw.metadata.name, decision.desiredReplicas);
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
    const settled = !scaled && pods.length === current && reporting.length === current;
    const rb = rebalance({
      pods: reporting,
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

  private async event(
    gw: RealtimeGateway,
    reason: string,
    message: string,
    type: "Normal" | "Warning" = "Normal",
  ) {
    try {
      await this.kube.recordEvent({
        namespace: gw.metadata.namespace,
        involved: {
          name: gw.metadata.name,
          uid: gw.metadata.uid,
          resourceVersion: gw.metadata.resourceVersion,
        },
        type,
        reason,
        message,
      });
    } catch (err) {
      this.log.warn({ err, reason }, "recording an Event failed");
    }
  }

  /**
   * Read-modify-write of the status fields this controller owns, with the resourceVersion as precondition, so the
   * reconciler's fields (replicas, readyReplicas, Ready/Degraded, ...) are never lost; a 409 re-reads and retries.
   */
  private async writeStatus(gw: RealtimeGateway, d: ScalingDecision, lastScaleTime: string | undefined) {
    const { namespace, name } = gw.metadata;
    let latest: RawObject | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      // Compare first with what the list showed; only read the object back when something must change.
      const status = latest ? (latest.status ?? {}) : (gw.status ?? {});
      const next = this.nextStatus(gw, status, d, lastScaleTime);
      if (next === undefined) return;
      if (!latest) {
        latest = (await this.kube.getGateway(namespace, name)) as RawObject;
        continue;
      }
      try {
        await this.kube.replaceStatus(namespace, name, { ...latest, status: next });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        latest = (await this.kube.getGateway(namespace, name)) as RawObject;
      }
    }
    this.log.warn({ gateway: name }, "status write kept conflicting; next pass retries");
  }

  /** The new status, or undefined when nothing this controller owns changed meaningfully. */
  private nextStatus(
    gw: RealtimeGateway,
    status: Record<string, unknown>,
    d: ScalingDecision,
    lastScaleTime: string | undefined,
  ): Record<string, unknown> | undefined {
    const conditions = Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
    const readyReplicas = typeof status.readyReplicas === "number" ? status.readyReplicas : undefined;
    const cond = scalingCondition(d, readyReplicas, gw.metadata.generation);
    const had = conditions.find((c) => c.type === cond.type);
    const connections = d.metrics.totalConnections;
    const noise = Math.max(1, Math.floor(gw.spec.autoscaling.targetConnectionsPerPod / 100));
    const changed =
      status.desiredReplicas !== d.desiredReplicas ||
      typeof status.connections !== "number" ||
      Math.abs(status.connections - connections) >= noise ||
      (lastScaleTime !== undefined && status.lastScaleTime !== lastScaleTime) ||
      had?.status !== cond.status ||
      had?.reason !== cond.reason ||
      had?.observedGeneration !== cond.observedGeneration;
    if (!changed) return undefined;
    return {
      ...status,
      desiredReplicas: d.desiredReplicas,
      connections,
      ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
      conditions: setCondition(conditions, cond, new Date(this.now())),
    };
  }

  private async updateDeletionCosts(
    gw: RealtimeGateway,
    pods: PodView[],
    connectionsOf: (p: PodView) => number | undefined,
  ) {
    const updates = deletionCostUpdates(
      pods
        .filter((p) => !p.deleting)
        .map((p) => ({ name: p.name, annotations: p.annotations, connections: connectionsOf(p) })),
      gw.spec.autoscaling.targetConnectionsPerPod,
    );
    await Promise.all(
      updates.map(async (u) => {
        try {
          await this.kube.annotatePod(gw.metadata.namespace, u.pod, { [POD_DELETION_COST]: String(u.cost) });
        } catch (err) {
          this.log.debug({ err, pod: u.pod }, "deletion cost update failed (pod gone?)");
        }
      }),
    );
  }

  private async shed(gw: RealtimeGateway, rb: RebalanceDecision, pods: { name: string; podIP: string }[]) {
    // Read when needed, not cached: the reconciler recreates the Secret if it is deleted.
    const key = await readAdminKey(this.kube, gw);
    if (key === undefined) {
      this.log.warn(
        { gateway: gw.metadata.name },
        "rebalance skipped: the admin-key Secret does not exist yet",
      );
      return;
    }
    const results = await Promise.all(
      rb.shed.map(async (order) => {
        const pod = pods.find((p) => p.name === order.pod);
        if (!pod) return `${order.pod}: gone`;
        try {
          const res = await this.fetch(`http://${podAddress(pod.podIP, this.metricsPort)}/admin/shed`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ count: order.count, seconds: this.rebalanceSpec.roundSeconds }),
            signal: AbortSignal.timeout(this.scrapeTimeoutMs),
          });
          await res.body?.cancel();
          return res.ok ? `${order.pod}: ${order.count}` : `${order.pod}: HTTP ${res.status}`;
        } catch (err) {
          return `${order.pod}: ${(err as Error).message}`;
        }
      }),
    );
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
