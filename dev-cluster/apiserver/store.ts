// The storage layer: objects by (group, resource, namespace, name), one global resourceVersion bumped on every
// write, the watch history (bounded like etcd's compaction) and the open watchers. A write that changes nothing
// is not a write: no new resourceVersion, no event.

import { notFound } from "./errors.js";
import { deepEqual, type Json, type JsonObject } from "./fieldset.js";
import { apiVersionOf, type ResourceType } from "./resources.js";

export interface WatchEvent {
  rv: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  rt: ResourceType;
  object: JsonObject;
  previous: JsonObject | undefined;
}

export interface Watcher {
  rt: ResourceType;
  namespace: string | undefined;
  send: (ev: WatchEvent) => void;
  close: () => void;
}

/** metadata a write cannot change: identity, and the deletion marks only a DELETE sets. */
const KEPT_METADATA = [
  "uid",
  "creationTimestamp",
  "name",
  "namespace",
  "generation",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
];

export class Store {
  readonly types: ResourceType[];
  private readonly objects = new Map<string, JsonObject>();
  readonly log: WatchEvent[] = [];
  readonly watchers = new Set<Watcher>();
  rv = 100;
  compactedRv = 0;
  /** Called after an object left the store (the garbage collector's trigger). */
  onRemoved: (rt: ResourceType, gone: JsonObject) => void = () => {};

  constructor(
    types: ResourceType[],
    private readonly historyLimit: number,
  ) {
    this.types = [...types];
  }

  typeByKind(apiVersion: string, kind: string): ResourceType {
    const rt = this.types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
    if (!rt) throw new Error(`fake apiserver: unknown kind ${apiVersion} ${kind}`);
    return rt;
  }

  typeOfKey(key: string): ResourceType {
    return this.types.find((t) => key.startsWith(`${t.group}/${t.plural}/`))!;
  }

  key(rt: ResourceType, ns: string | undefined, name: string): string {
    return `${rt.group}/${rt.plural}/${rt.namespaced ? (ns ?? "") : ""}/${name}`;
  }

  find(rt: ResourceType, ns: string | undefined, name: string): JsonObject | undefined {
    return this.objects.get(this.key(rt, ns, name));
  }

  mustGet(rt: ResourceType, ns: string | undefined, name: string): JsonObject {
    const o = this.find(rt, ns, name);
    if (!o) throw notFound(rt, name);
    return o;
  }

  objectsOf(rt: ResourceType, ns: string | undefined): JsonObject[] {
    const prefix = `${rt.group}/${rt.plural}/${ns !== undefined && rt.namespaced ? `${ns}/` : ""}`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  entries(): [string, JsonObject][] {
    return [...this.objects.entries()];
  }

  uidExists(uid: string): boolean {
    for (const o of this.objects.values()) if ((o.metadata as JsonObject).uid === uid) return true;
    return false;
  }

  /** The object as the API returns it: a copy with apiVersion and kind. */
  present(rt: ResourceType, o: JsonObject): JsonObject {
    return { apiVersion: apiVersionOf(rt), kind: rt.kind, ...structuredClone(o) };
  }

  /**
   * Stores `next` (replacing `prev`), bumping resourceVersion and generation; a no-op write stores nothing.
   * `deleting` lets a DELETE set deletionTimestamp, deletionGracePeriodSeconds and generation, which other
   * writes keep.
   */
  commit(rt: ResourceType, prev: JsonObject | undefined, next: JsonObject, deleting = false): JsonObject {
    delete next.apiVersion;
    delete next.kind;
    const meta = next.metadata as JsonObject;
    if (prev) {
      const pm = prev.metadata as JsonObject;
      for (const k of KEPT_METADATA) {
        if (deleting && (k.startsWith("deletion") || k === "generation")) continue;
        if (pm[k] === undefined) delete meta[k];
        else meta[k] = pm[k] as Json;
      }
      meta.resourceVersion = pm.resourceVersion as Json;
      if (deepEqual(withoutTimes(prev), withoutTimes(next))) return prev;
      const specOf = (o: JsonObject) =>
        Object.fromEntries(Object.entries(o).filter(([k]) => k !== "metadata" && k !== "status"));
      if (pm.generation !== undefined && !deepEqual(specOf(prev) as Json, specOf(next) as Json)) {
        meta.generation = (pm.generation as number) + 1;
      }
    }
    this.rv++;
    meta.resourceVersion = String(this.rv);
    this.objects.set(this.key(rt, meta.namespace as string | undefined, meta.name as string), next);
    this.emit(prev ? "MODIFIED" : "ADDED", rt, next, prev);
    return next;
  }

  /** Removes the object for good: a DELETED event at a new resourceVersion, then the removal hook. */
  remove(rt: ResourceType, live: JsonObject): JsonObject {
    const meta = live.metadata as JsonObject;
    this.objects.delete(this.key(rt, meta.namespace as string | undefined, meta.name as string));
    this.rv++;
    const gone = structuredClone(live);
    (gone.metadata as JsonObject).resourceVersion = String(this.rv);
    this.emit("DELETED", rt, gone, undefined);
    this.onRemoved(rt, gone);
    return gone;
  }

  /** Drops the event history: watches resuming from any version up to now get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.log.length = 0;
  }

  eventFor(w: Watcher, ev: WatchEvent): boolean {
    if (ev.rt !== w.rt) return false;
    return w.namespace === undefined || (ev.object.metadata as JsonObject).namespace === w.namespace;
  }

  private emit(
    type: WatchEvent["type"],
    rt: ResourceType,
    object: JsonObject,
    previous: JsonObject | undefined,
  ): void {
    const ev: WatchEvent = { rv: this.rv, type, rt, object: structuredClone(object), previous };
    this.log.push(ev);
    // Like etcd's compaction: a bounded history; resuming from before it gets 410 Gone.
    if (this.log.length > this.historyLimit) {
      const dropped = this.log.shift()!;
      this.compactedRv = dropped.rv;
    }
    for (const w of this.watchers) if (this.eventFor(w, ev)) w.send(ev);
  }
}

function withoutTimes(o: JsonObject): Json {
  const c = structuredClone(o);
  const mf = ((c.metadata as JsonObject).managedFields ?? []) as JsonObject[];
  for (const e of mf) delete e.time;
  return c;
}
