// The RealtimeGateway controller: informers → work queue → reconcile (gather → decide → apply the difference →
// status → Events). One object at a time per key; failures retry with backoff; nothing is written when nothing
// changed (decide.ts compares the rendered objects with the cache; the status is compared before it is written).
import { randomBytes } from "node:crypto";
import { findCondition } from "../../api/conditions.js";
import { hookSecretRefs } from "../../api/namespaces.js";
import {
  API_VERSION,
  CONDITION_TYPES,
  KIND,
  parseRealtimeGateway,
  type RealtimeGateway,
  type RealtimeGatewayStatus,
} from "../../api/realtimegateway.js";
import { renderAdminSecret } from "../../render/admin-secret.js";
import { FIELD_MANAGER, names, selectorString } from "../../render/labels.js";
import type { BackoffPolicy } from "../../runtime/backoff.js";
import { type EventInput, EventRecorder } from "../../runtime/events.js";
import { Informer } from "../../runtime/informer.js";
import {
  apiStatusCode,
  errText,
  isConflict,
  isNotFound,
  type Kube,
  type KubeObject,
} from "../../runtime/kube.js";
import type { Logger } from "../../runtime/log.js";
import type { OperatorMetrics } from "../../runtime/metrics.js";
import { GATEWAY_RESOURCE, OWNED_RESOURCES } from "../../runtime/resources.js";
import type { RetryBucketSpec } from "../../runtime/retry-rate-limit.js";
import { type ProcessResult, WorkQueue } from "../../runtime/work-queue.js";
import { type Decision, decide, type ObsoleteObject, type SecretKeys } from "./decide.js";
import { nextStatus, readyCondition, statusEqual } from "./status.js";

/** How soon a reconcile blocked on a missing Secret looks again (Secrets are read by name, not watched). */
export const SECRET_RECHECK_MS = 2_000;
const OWNED_SELECTOR = `app.kubernetes.io/managed-by=${FIELD_MANAGER}`;

/** The slice of the API client the RealtimeGateway controller uses. */
export type GatewayKube = Pick<
  Kube,
  | "list"
  | "watch"
  | "apply"
  | "deleteObject"
  | "getGateway"
  | "replaceGatewayStatus"
  | "createEvent"
  | "createSecret"
  | "getSecretKeys"
>;

export interface GatewayControllerOptions {
  kube: GatewayKube;
  namespace?: string | undefined;
  log: Logger;
  metrics?: OperatorMetrics | undefined;
  backoff?: BackoffPolicy;
  /** The work queue's overall retry rate (default 10 qps, burst 100). */
  rateLimit?: RetryBucketSpec;
  /** Re-reconcile everything this often, as a safety net (client-go's resync). */
  resyncMs?: number;
  concurrency?: number;
  now?: () => Date;
}

export class GatewayController {
  readonly gateways: Informer;
  readonly owned = new Map<string, Informer>();
  readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly seenGeneration = new Map<string, number>();
  private resync: NodeJS.Timeout | undefined;
  private ready = false;

  constructor(private readonly o: GatewayControllerOptions) {
    const { kube, namespace, log } = o;
    const enqueue = (ns: string | undefined, name: string) => this.queue.add(`${ns}/${name}`);
    const onError = (what: string) => (err: unknown, phase: string) =>
      log.warn({ err: errText(err), phase }, `${what} informer`);
    this.gateways = new Informer({
      client: kube,
      resource: GATEWAY_RESOURCE,
      namespace,
      backoff: o.backoff,
      onError: onError("RealtimeGateway"),
      onEvent: (type, obj) => {
        const { uid, generation, namespace: ns, name } = obj.metadata;
        // Status-only updates (ours, the autoscaler's) need no reconcile: skip unless the generation moved.
        if (
          type === "update" &&
          uid &&
          this.seenGeneration.get(uid) === generation &&
          !obj.metadata.deletionTimestamp
        )
          return;
        if (uid && type !== "delete") this.seenGeneration.set(uid, generation ?? 0);
        if (type === "delete" && uid) this.seenGeneration.delete(uid);
        if (type !== "delete") enqueue(ns, name);
      },
    });
    for (const res of OWNED_RESOURCES) {
      this.owned.set(
        res.kind,
        new Informer({
          client: kube,
          resource: res,
          namespace,
          labelSelector: OWNED_SELECTOR,
          backoff: o.backoff,
          onError: onError(res.kind),
          onEvent: (_type, obj) => {
            const owner = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === KIND);
            if (owner) enqueue(obj.metadata.namespace, owner.name);
          },
        }),
      );
    }
    this.events = new EventRecorder(kube, log);
    this.queue = new WorkQueue({
      process: (key) => this.reconcile(key),
      concurrency: o.concurrency ?? 4,
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(o.rateLimit ? { rateLimit: o.rateLimit } : {}),
      onResult: (key, outcome, ms, err) => {
        o.metrics?.reconciles.inc({ result: outcome });
        o.metrics?.duration.observe(ms / 1000);
        if (outcome === "error") {
          o.metrics?.errors.inc();
          log.warn({ key, err: errText(err) }, "reconcile failed; retrying with backoff");
        }
      },
      onDepth: (d) => o.metrics?.queueDepth.set(d),
    });
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Runs until `signal` aborts. Informers sync before the first reconcile. */
  async start(signal: AbortSignal): Promise<void> {
    const informers = [...this.owned.values(), this.gateways];
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    // Leadership may end before the caches sync (an API server that is down): stop cleanly either way.
    await Promise.race([Promise.all(informers.map((i) => i.start())), stopped]);
    if (!signal.aborted) {
      // Workers only after every cache synced: a half-filled cache would re-apply what already exists.
      this.queue.start();
      this.ready = true;
      this.o.log.info({ namespace: this.o.namespace ?? "(all)" }, "RealtimeGateway controller started");
      this.resync = setInterval(() => this.resyncAll(), this.o.resyncMs ?? 5 * 60_000);
      await stopped;
    }
    clearInterval(this.resync);
    await this.queue.shutdown();
    await Promise.all(informers.map((i) => i.stop()));
    this.ready = false;
  }

  /** Enqueue a reconcile of every RealtimeGateway (tests, resync). */
  resyncAll(): void {
    for (const gw of this.gateways.list()) this.queue.add(`${gw.metadata.namespace}/${gw.metadata.name}`);
  }

  /** One reconcile of `namespace/name`. Throws to ask for a retry with backoff. */
  async reconcile(key: string): Promise<ProcessResult> {
    const [namespace, name] = key.split("/") as [string, string];
    const raw = this.gateways.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) return undefined; // garbage collection removes what it owned
    const parsed = parseRealtimeGateway(raw);
    const secrets = parsed.ok ? await this.readSecrets(parsed.gateway) : new Map<string, SecretKeys>();
    const decision = decide({
      parsed,
      secret: (_ns, n) => secrets.get(n),
      owned: (kind, ns, n) => this.owned.get(kind)?.get(ns, n),
    });
    const involved = {
      apiVersion: API_VERSION,
      kind: KIND,
      name,
      namespace,
      uid: raw.metadata.uid ?? "",
      resourceVersion: raw.metadata.resourceVersion,
    };
    const generation = raw.metadata.generation ?? 0;
    const wasDegraded = findCondition(currentConditions(raw), CONDITION_TYPES.Degraded)?.status === "True";

    if (decision.kind !== "apply") {
      const reason = decision.kind === "invalid" ? "InvalidSpec" : decision.reason;
      await this.events.record({ involved, type: "Warning", reason, message: decision.message });
      await this.writeStatus(namespace, name, undefined, decision, {
        status: "True",
        reason,
        message: decision.message,
      });
      // No Secret watch (least privilege): look again a little later for a Secret that may appear; a bad spec
      // waits for its next edit.
      return decision.kind === "blocked" ? { requeueAfterMs: SECRET_RECHECK_MS } : undefined;
    }

    const gw = decision.gateway;
    try {
      // Before the Deployment, so new pods find their RTGW_API_KEY.
      if (decision.createAdminSecret) await this.createAdminSecret(gw, involved);
      for (const obj of decision.changed) {
        const live = this.owned.get(obj.kind)?.get(namespace, obj.metadata.name);
        const written = await this.o.kube.apply(obj as unknown as KubeObject);
        this.owned.get(obj.kind)?.observe(written);
        this.o.metrics?.writes.inc({ kind: obj.kind });
        await this.events.record({
          involved,
          type: "Normal",
          reason: live ? "Updated" : "Created",
          message: `${live ? "updated" : "created"} ${obj.kind} ${obj.metadata.name}${obj.kind === "Deployment" ? ` (replicas ${gw.spec.replicas}, image ${gw.spec.image})` : ""}`,
        });
      }
      // After the Deployment, whose new pods no longer mount the config file.
      for (const key of decision.obsolete) await this.deleteObsolete(key, involved);
    } catch (err) {
      const message = `server-side apply failed: ${errText(err)}`;
      await this.events.record({ involved, type: "Warning", reason: "ApplyFailed", message });
      await this.writeStatus(namespace, name, gw, decision, {
        status: "True",
        reason: "ApplyFailed",
        message,
      }).catch(() => undefined);
      throw err;
    }
    if (wasDegraded) {
      await this.events.record({
        involved,
        type: "Normal",
        reason: "Recovered",
        message: `reconciled generation ${generation}`,
      });
    }
    await this.writeStatus(namespace, name, gw, decision, {
      status: "False",
      reason: "ReconcileSucceeded",
      message: `owned objects match generation ${generation}`,
    });
    return undefined;
  }

  /**
   * The Secrets this gateway references and its admin-key Secret, each read by name with a GET: the operator needs
   * no cluster-wide list or watch of Secrets, and holds only their key names, only for this reconcile.
   */
  private async readSecrets(gw: RealtimeGateway): Promise<Map<string, SecretKeys>> {
    const refs = new Set([
      gw.spec.redis.secretRef?.name,
      gw.spec.auth?.jwtSecretRef?.name,
      gw.spec.apiKeySecretRef?.name,
      gw.spec.tls?.secretName,
      ...hookSecretRefs(gw.spec).map(([, ref]) => ref.name),
      names.adminSecret(gw),
    ]);
    const found = new Map<string, SecretKeys>();
    await Promise.all(
      [...refs].map(async (n) => {
        if (n === undefined) return;
        const s = await this.o.kube.getSecretKeys(gw.metadata.namespace, n);
        if (s) found.set(n, s as SecretKeys);
      }),
    );
    return found;
  }

  /**
   * Deletes an owned object the spec no longer renders (an object the gateway does not control is never touched:
   * decide.ts; one recreated since under the name fails the uid precondition and stays).
   */
  private async deleteObsolete(key: ObsoleteObject, involved: EventInput["involved"]): Promise<void> {
    const res = OWNED_RESOURCES.find((r) => r.kind === key.kind);
    if (!res) throw new Error(`cannot delete a ${key.kind}: not a kind the operator owns`);
    const deleted = await this.o.kube.deleteObject(res, key.namespace, key.name, key.uid);
    // The object with that uid is gone either way; a newer one the watch brought in stays cached.
    const cached = this.owned.get(key.kind)?.get(key.namespace, key.name);
    if (cached?.metadata.uid === key.uid) this.owned.get(key.kind)?.forget(cached);
    if (!deleted) return;
    this.o.metrics?.writes.inc({ kind: key.kind });
    await this.events.record({
      involved,
      type: "Normal",
      reason: "Deleted",
      message: `deleted ${key.kind} ${key.name} (the spec no longer renders it)`,
    });
  }

  /**
   * Creates the admin-key Secret with a fresh random key. Only ever a create: an existing Secret (someone else's
   * create won, or our cache is behind) is left as it is, so a key is never rotated under running pods. The key
   * goes into the request body and nowhere else: not the cache, a log, an Event or an error message.
   */
  private async createAdminSecret(gw: RealtimeGateway, involved: EventInput["involved"]): Promise<void> {
    const secret = renderAdminSecret(gw, randomBytes(32).toString("base64url"));
    let created: KubeObject | undefined;
    try {
      created = await this.o.kube.createSecret(secret as unknown as KubeObject);
    } catch (err) {
      // The API server's message could quote the request; say only what failed.
      const code = apiStatusCode(err);
      throw new Error(
        `creating Secret ${secret.metadata.namespace}/${secret.metadata.name} failed${code ? ` (HTTP ${code})` : ""}`,
      );
    }
    if (!created) return;
    this.o.metrics?.writes.inc({ kind: "Secret" });
    await this.events.record({
      involved,
      type: "Normal",
      reason: "Created",
      message: `created Secret ${secret.metadata.name} (the operator's key for the gateway's /admin/* routes)`,
    });
  }

  /** Read-modify-write of this controller's status fields with a resourceVersion precondition; retries on 409. */
  private async writeStatus(
    namespace: string,
    name: string,
    gw: RealtimeGateway | undefined,
    decision: Decision,
    degraded: { status: "True" | "False"; reason: string; message: string },
  ): Promise<void> {
    let obj = this.gateways.get(namespace, name);
    for (let attempt = 0; obj && attempt < 5; attempt++) {
      const generation = obj.metadata.generation ?? 0;
      const deployment = this.owned.get("Deployment")?.get(namespace, name);
      const current = (obj.status ?? {}) as RealtimeGatewayStatus;
      const ready = gw
        ? readyCondition(gw, deployment)
        : {
            type: CONDITION_TYPES.Ready,
            status: "False" as const,
            reason:
              decision.kind === "invalid"
                ? "InvalidSpec"
                : decision.kind === "blocked"
                  ? decision.reason
                  : "SecretMissing",
            message: "not reconciled: see the Degraded condition",
            observedGeneration: generation,
          };
      const next = nextStatus({
        current,
        gateway: { generation, selector: gw ? selectorString(gw) : current?.selector },
        deployment,
        ready,
        degraded,
        now: this.o.now?.() ?? new Date(),
      });
      if (statusEqual(current, next)) return;
      try {
        const written = await this.o.kube.replaceGatewayStatus({ ...obj, status: next });
        this.gateways.observe(written);
        this.o.metrics?.writes.inc({ kind: "RealtimeGateway/status" });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
        obj = await this.o.kube.getGateway(namespace, name); // someone else wrote status: merge onto theirs
      }
    }
  }
}

function currentConditions(raw: KubeObject) {
  const s = raw.status as
    | {
        conditions?: {
          type: string;
          status: "True" | "False" | "Unknown";
          reason: string;
          message: string;
          lastTransitionTime: string;
        }[];
      }
    | undefined;
  return s?.conditions;
}
