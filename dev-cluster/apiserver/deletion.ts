// DELETE as the real API server does it. An object without finalizers goes at once, except a scheduled Pod: it
// gets deletionTimestamp (now + grace) and deletionGracePeriodSeconds and stays until the kubelet (the pod
// simulator) has stopped its containers and deletes it again with gracePeriodSeconds=0; a shorter grace on a
// second DELETE shortens it. An object with finalizers gets deletionTimestamp and stays until its finalizers are
// removed by an update or patch (no new ones may be added meanwhile). When an object finally leaves the store, its
// dependents are garbage collected (background; Orphan strips the owner reference instead). Foreground: the owner
// gets the foregroundDeletion finalizer, its dependents are deleted, and it goes when the last of them has gone.
import { HttpError, qualified, statusBody } from "./errors.js";
import type { JsonObject } from "./fieldset.js";
import type { ResourceType } from "./resources.js";
import type { Store } from "./store.js";

type Policy = "Background" | "Foreground" | "Orphan";
const FOREGROUND = "foregroundDeletion";

export class Deletion {
  /** Propagation policy asked for by the DELETE of an object that is still terminating, by uid. */
  private readonly policies = new Map<string, Policy>();

  constructor(
    private readonly store: Store,
    private readonly gcDelayMs: number,
    private readonly timers: Set<NodeJS.Timeout>,
  ) {
    store.onRemoved = (_rt, gone) => {
      this.scheduleGc(gone);
      this.releaseForegroundOwners(gone);
    };
  }

  delete(
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    q: Record<string, string>,
    opts: JsonObject,
  ): JsonObject {
    const live = this.store.mustGet(rt, ns, name);
    const meta = live.metadata as JsonObject;
    const pre = (opts.preconditions ?? {}) as JsonObject;
    if (
      (pre.uid && pre.uid !== meta.uid) ||
      (pre.resourceVersion && pre.resourceVersion !== meta.resourceVersion)
    ) {
      throw new HttpError(409, "Conflict", `Precondition failed for ${qualified(rt)} "${name}"`);
    }
    const policy = propagation(q, opts);
    this.policies.set(meta.uid as string, policy);
    const asked = graceAsked(q, opts);
    const uid = meta.uid as string;
    // Foreground: the owner stays, marked and held by a finalizer, until its dependents are gone.
    const foreground =
      policy === "Foreground" && meta.deletionTimestamp === undefined && this.dependentsOf(uid).length > 0;
    const finalizers = [...((meta.finalizers ?? []) as string[]), ...(foreground ? [FOREGROUND] : [])];
    const grace = this.graceFor(rt, live, asked);
    if (grace === 0 && finalizers.length === 0) {
      const last = structuredClone(live);
      // The DELETED event of a terminating pod shows the grace period it ended with.
      if (meta.deletionTimestamp !== undefined) (last.metadata as JsonObject).deletionGracePeriodSeconds = 0;
      this.store.remove(rt, last);
      return statusBody(200, "", "", { name, group: rt.group, kind: rt.plural, uid: meta.uid as string });
    }
    const was = meta.deletionGracePeriodSeconds as number | undefined;
    // Already terminating: only a shorter grace period changes anything.
    if (meta.deletionTimestamp !== undefined && was !== undefined && grace >= was) {
      return this.store.present(rt, live);
    }
    const next = structuredClone(live);
    const nm = next.metadata as JsonObject;
    nm.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    nm.deletionGracePeriodSeconds = grace;
    if (foreground) nm.finalizers = finalizers;
    if (meta.deletionTimestamp === undefined && typeof meta.generation === "number") {
      nm.generation = (meta.generation as number) + 1;
    }
    const stored = this.store.commit(rt, live, next, true);
    if (foreground) this.later(() => this.collectGarbage(uid, false));
    return this.store.present(rt, this.settle(rt, stored) ?? stored);
  }

  /** After any write: a terminating object with no finalizers and no grace left is removed. */
  settle(rt: ResourceType, o: JsonObject): JsonObject | undefined {
    const meta = o.metadata as JsonObject;
    if (meta.deletionTimestamp === undefined) return o;
    if (((meta.finalizers ?? []) as string[]).length > 0) return o;
    if (((meta.deletionGracePeriodSeconds ?? 0) as number) > 0) return o;
    this.store.remove(rt, o);
    return undefined;
  }

  /** The grace period a DELETE gets: only scheduled, still running Pods have one (their own or the asked). */
  private graceFor(rt: ResourceType, live: JsonObject, asked: number | undefined): number {
    if (rt.group !== "" || rt.kind !== "Pod") return 0;
    const spec = (live.spec ?? {}) as JsonObject;
    const phase = ((live.status ?? {}) as JsonObject).phase;
    if (!spec.nodeName || phase === "Succeeded" || phase === "Failed") return 0;
    return Math.max(0, asked ?? (spec.terminationGracePeriodSeconds as number | undefined) ?? 30);
  }

  private scheduleGc(gone: JsonObject): void {
    const uid = (gone.metadata as JsonObject).uid as string;
    const orphan = this.policies.get(uid) === "Orphan";
    this.policies.delete(uid);
    this.later(() => this.collectGarbage(uid, orphan));
  }

  /** The garbage collector runs asynchronously, as on a real cluster. */
  private later(work: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      work();
    }, this.gcDelayMs);
    this.timers.add(t);
  }

  private dependentsOf(uid: string): [string, JsonObject][] {
    return this.store
      .entries()
      .filter(([, o]) =>
        (((o.metadata as JsonObject).ownerReferences ?? []) as JsonObject[]).some((r) => r.uid === uid),
      );
  }

  /** An owner in foreground deletion loses its finalizer (and goes) when its last dependent has gone. */
  private releaseForegroundOwners(gone: JsonObject): void {
    for (const ref of ((gone.metadata as JsonObject).ownerReferences ?? []) as JsonObject[]) {
      const found = this.store.entries().find(([, o]) => (o.metadata as JsonObject).uid === ref.uid);
      if (!found) continue;
      const [key, owner] = found;
      const om = owner.metadata as JsonObject;
      const finalizers = (om.finalizers ?? []) as string[];
      if (!finalizers.includes(FOREGROUND) || this.dependentsOf(om.uid as string).length > 0) continue;
      const next = structuredClone(owner);
      (next.metadata as JsonObject).finalizers = finalizers.filter((f) => f !== FOREGROUND);
      const rt = this.store.typeOfKey(key);
      this.settle(rt, this.store.commit(rt, owner, next));
    }
  }

  /** Deletes (or orphans) everything that names `uid` as an owner; their removal recurses. */
  private collectGarbage(uid: string, orphan: boolean): void {
    for (const [k, o] of this.store.entries()) {
      const meta = o.metadata as JsonObject;
      const refs = (meta.ownerReferences ?? []) as JsonObject[];
      if (!refs.some((r) => r.uid === uid)) continue;
      const rt = this.store.typeOfKey(k);
      if (orphan) {
        const next = structuredClone(o);
        (next.metadata as JsonObject).ownerReferences = refs.filter((r) => r.uid !== uid);
        this.store.commit(rt, o, next);
      } else if (
        meta.deletionTimestamp === undefined &&
        (refs.length === 1 || refs.every((r) => r.uid === uid || !this.store.uidExists(r.uid as string)))
      ) {
        this.delete(rt, meta.namespace as string | undefined, meta.name as string, {}, {});
      }
    }
  }
}

function propagation(q: Record<string, string>, opts: JsonObject): Policy {
  const p =
    q.propagationPolicy ??
    (opts.propagationPolicy as string | undefined) ??
    (q.orphanDependents === "true" || opts.orphanDependents === true ? "Orphan" : "Background");
  if (p !== "Background" && p !== "Foreground" && p !== "Orphan") {
    throw new HttpError(400, "BadRequest", `propagationPolicy: Unsupported value: "${p}"`);
  }
  return p;
}

function graceAsked(q: Record<string, string>, opts: JsonObject): number | undefined {
  const raw = q.gracePeriodSeconds ?? opts.gracePeriodSeconds;
  if (raw === undefined || raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new HttpError(400, "BadRequest", "gracePeriodSeconds must be an integer");
  return n;
}
