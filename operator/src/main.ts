// `rtgw operator`: config → Kubernetes client → health/metrics server → leader election → controllers.
// Controllers are a list of { name, start(signal) }: each runs while this replica leads and stops when the term ends.
import { hostname } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { AutoscalingController, type AutoscalingKube } from "./controllers/autoscaling/controller.js";
import type { AutoscalingSettings } from "./controllers/autoscaling/settings.js";
import { GatewayController, type GatewayKube } from "./controllers/gateway/controller.js";
import { serveHealth } from "./runtime/health-server.js";
import { type Kube, kubeFromConfig } from "./runtime/kube.js";
import { LEASE_DEFAULTS, LeaderElector } from "./runtime/leader-election.js";
import type { Logger } from "./runtime/log.js";
import { type OperatorMetrics, operatorMetrics } from "./runtime/metrics.js";
import { DEFAULT_RETRY_BUCKET } from "./runtime/retry-rate-limit.js";

export interface Controller {
  name: string;
  /** Runs until `signal` aborts; resolves when fully stopped. */
  start(signal: AbortSignal): Promise<void>;
  ready?(): boolean;
}

/** What `rtgw operator` parsed from its flags (cli/operator.ts checks them with the shared rules). */
export interface OperatorConfig {
  namespace?: string | undefined;
  leaderElect: boolean;
  leaseName: string;
  leaseNamespace?: string | undefined;
  logLevel: "trace" | "debug" | "info" | "warn" | "error";
  metricsPort: number;
  /** The work queue's overall retry rate (default client-go's: 10 qps, burst 100). */
  queueQps?: number | undefined;
  queueBurst?: number | undefined;
  /** This pod (the chart sets both from the downward API): the leader identity and the Lease's default namespace. */
  podName?: string | undefined;
  podNamespace?: string | undefined;
}

export interface OperatorDeps {
  kube: GatewayKube & Pick<Kube, "leases">;
  /** Extra controllers started beside the RealtimeGateway controller (tests; the autoscaler is added by main). */
  controllers?: (ctx: { log: Logger; namespace: string | undefined }) => Controller[];
  log: Logger;
  metrics?: OperatorMetrics;
  identity?: string;
  lease?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  resyncMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  /** Called when this replica's term starts (before any controller) and after every controller stopped. */
  onTerm?: (phase: "started" | "stopped") => void;
}

export interface RunningOperator {
  gateway: () => GatewayController | undefined;
  isLeader: () => boolean;
  stop: () => Promise<void>;
  /** Ends the process's campaign without releasing the Lease (a crash, for failover tests). */
  crash: () => Promise<void>;
  done: Promise<void>;
}

/** Starts the operator; the returned handle stops it. */
export function startOperator(config: OperatorConfig, deps: OperatorDeps): RunningOperator {
  const shutdown = new AbortController();
  let release = true;
  let current: GatewayController | undefined;
  const metrics = deps.metrics ?? operatorMetrics();
  const lead = async (term: AbortSignal) => {
    metrics.leader.set(1);
    deps.onTerm?.("started");
    const gateway = new GatewayController({
      kube: deps.kube,
      namespace: config.namespace,
      log: deps.log,
      metrics,
      ...(deps.backoff ? { backoff: deps.backoff } : {}),
      ...(deps.resyncMs ? { resyncMs: deps.resyncMs } : {}),
      rateLimit: {
        qps: config.queueQps ?? DEFAULT_RETRY_BUCKET.qps,
        burst: config.queueBurst ?? DEFAULT_RETRY_BUCKET.burst,
      },
    });
    current = gateway;
    const controllers: Controller[] = [
      { name: "realtimegateway", start: (s) => gateway.start(s), ready: () => gateway.isReady },
      ...(deps.controllers?.({ log: deps.log, namespace: config.namespace }) ?? []),
    ];
    // One failing controller ends the term for all; the term is over only when every one of them has stopped.
    const all = new AbortController();
    if (term.aborted) all.abort();
    term.addEventListener("abort", () => all.abort(), { once: true });
    const results = await Promise.allSettled(
      controllers.map((c) =>
        c.start(all.signal).catch((err: unknown) => {
          all.abort();
          throw err;
        }),
      ),
    );
    current = undefined;
    metrics.leader.set(0);
    deps.onTerm?.("stopped");
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  };
  let elector: LeaderElector | undefined;
  const done = (async () => {
    if (!config.leaderElect) {
      await lead(shutdown.signal);
      return;
    }
    elector = new LeaderElector({
      leases: deps.kube.leases,
      namespace: config.leaseNamespace ?? "default",
      name: config.leaseName,
      identity: deps.identity ?? `${hostname()}-${process.pid}`,
      log: deps.log,
      ...LEASE_DEFAULTS,
      ...deps.lease,
    });
    await elector.run(lead, shutdown.signal, { release: () => release });
  })();
  return {
    gateway: () => current,
    isLeader: () => (config.leaderElect ? (elector?.isLeader ?? false) : true),
    stop: async () => {
      shutdown.abort();
      await done;
    },
    crash: async () => {
      release = false;
      shutdown.abort();
      await done;
    },
    done,
  };
}

/** The autoscaling controller (controllers/autoscaling/) as one more controller of the leader's term. */
function autoscalingController(
  kube: AutoscalingKube,
  log: Logger,
  namespace: string | undefined,
  settings: AutoscalingSettings | undefined,
): Controller {
  return {
    name: "autoscaling",
    async start(signal) {
      const c = new AutoscalingController({
        kube,
        namespace,
        logger: log,
        ...(settings ? { settings } : {}),
      });
      c.start();
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await c.stop();
    },
  };
}

/** `autoscaling`: the autoscaler's tunables, parsed from the environment by `rtgw operator` (default: defaults). */
export async function runOperatorFromCli(
  parsed: OperatorConfig,
  autoscaling?: AutoscalingSettings,
): Promise<void> {
  const config = { ...parsed };
  const log = pino({ level: config.logLevel, base: { component: "rtgw-operator" } });
  const kc = new KubeConfig();
  kc.loadFromDefault(); // in-cluster service account, or KUBECONFIG / ~/.kube/config
  if (!config.leaseNamespace) {
    config.leaseNamespace =
      config.podNamespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  }
  const identity = config.podName ?? `${hostname()}-${process.pid}`;
  const metrics = operatorMetrics();
  // One client type, one instance per field manager: the autoscaler's scale and status writes stay its own.
  const op = startOperator(config, {
    kube: kubeFromConfig(kc, undefined, identity),
    log,
    metrics,
    identity,
    controllers: ({ namespace }) => [
      autoscalingController(kubeFromConfig(kc, "rtgw-autoscaler", identity), log, namespace, autoscaling),
    ],
  });
  // A standby is ready (it serves health and waits for the Lease); a leader once its caches synced.
  const health = serveHealth(
    config.metricsPort,
    metrics,
    () => !op.isLeader() || (op.gateway()?.isReady ?? false),
  );
  log.info({ config }, "rtgw operator starting");
  const stop = () => {
    log.info({}, "shutting down");
    void op.stop().then(() => health.close());
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await op.done;
  health.close();
}
