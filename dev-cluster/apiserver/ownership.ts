// managedFields bookkeeping: who owns which field, server-side apply merges and conflicts, and ownership transfer
// on plain updates. Entries are keyed by (manager, operation, subresource) like the real API server's.
import {
  copyAt,
  decodeFieldsV1,
  deepEqual,
  deleteAt,
  encodeFieldsV1,
  fieldPaths,
  getAt,
  isObject,
  type Json,
  type JsonObject,
  keyPath,
  type Path,
  pathKey,
} from "./fieldset.js";

export interface ManagedEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: JsonObject;
  subresource?: string;
}

interface Owned {
  entry: Omit<ManagedEntry, "fieldsV1">;
  paths: Set<string>;
}

const IGNORED_METADATA = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "managedFields",
  "deletionTimestamp",
  "selfLink",
  "generateName",
]);

/** The paths a write manages: the object without identity, bookkeeping and (per scope) status or the rest. */
export function managedPaths(obj: JsonObject, scope: "main" | "status" | "all"): Path[] {
  const copy: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind") continue;
    if (k === "status" && scope === "main") continue;
    if (k !== "status" && scope === "status") continue;
    if (k === "metadata" && isObject(v)) {
      const meta: JsonObject = {};
      for (const [mk, mv] of Object.entries(v)) if (!IGNORED_METADATA.has(mk)) meta[mk] = mv;
      if (Object.keys(meta).length > 0) copy.metadata = meta;
      continue;
    }
    copy[k] = v;
  }
  return fieldPaths(copy);
}

function entryKey(e: { manager: string; operation: string; subresource?: string | undefined }): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ""}`;
}

export function readOwnership(obj: JsonObject): Map<string, Owned> {
  const out = new Map<string, Owned>();
  const meta = obj.metadata as JsonObject | undefined;
  const list = (meta?.managedFields ?? []) as unknown as ManagedEntry[];
  for (const e of list) {
    const { fieldsV1, ...entry } = e;
    out.set(entryKey(e), { entry, paths: new Set(decodeFieldsV1(fieldsV1).map(pathKey)) });
  }
  return out;
}

export function writeOwnership(obj: JsonObject, owners: Map<string, Owned>): void {
  const list: ManagedEntry[] = [];
  for (const o of owners.values()) {
    if (o.paths.size === 0) continue;
    const e: ManagedEntry = { ...o.entry, fieldsV1: encodeFieldsV1([...o.paths].map(keyPath)) };
    if (e.subresource === undefined) delete e.subresource;
    list.push(e);
  }
  (obj.metadata as JsonObject).managedFields = list as unknown as Json;
}

export interface Conflict {
  manager: string;
  path: string;
}

export function describePath(p: Path): string {
  return p.map((s) => (s.startsWith("f:") ? `.${s.slice(2)}` : `[${s.slice(2)}]`)).join("");
}

/**
 * Server-side apply of `applied` by `manager` onto `live` (undefined on create). Returns the merged object and the
 * new ownership, or the conflicts when another manager owns a field with a different value and `force` is off.
 */
/** `p` names a key field of a keyed list item (`name` of `k:{"name":"x"}`). */
function isItemKey(p: Path): boolean {
  const item = p[p.length - 2];
  const field = p[p.length - 1];
  if (!item?.startsWith("k:") || !field?.startsWith("f:")) return false;
  return Object.hasOwn(JSON.parse(item.slice(2)) as object, field.slice(2));
}

export function apply(input: {
  live: JsonObject | undefined;
  applied: JsonObject;
  manager: string;
  force: boolean;
  scope: "main" | "status";
  subresource?: string;
  apiVersion: string;
  now: string;
}): { ok: true; object: JsonObject } | { ok: false; conflicts: Conflict[] } {
  const live = input.live ?? { metadata: {} };
  const owners = readOwnership(live);
  const me = { manager: input.manager, operation: "Apply" as const, subresource: input.subresource };
  const myKey = entryKey(me);
  const newPaths = managedPaths(input.applied, input.scope);
  const newKeys = new Set(newPaths.map(pathKey));
  const conflicts: Conflict[] = [];
  for (const p of newPaths) {
    const k = pathKey(p);
    for (const [ok, o] of owners) {
      if (ok === myKey || o.entry.manager === input.manager || !o.paths.has(k)) continue;
      if (!deepEqual(getAt(live, p), getAt(input.applied, p)))
        conflicts.push({ manager: o.entry.manager, path: k });
    }
  }
  if (conflicts.length > 0 && !input.force) return { ok: false, conflicts };
  for (const c of conflicts)
    for (const o of owners.values()) if (o.entry.manager === c.manager) o.paths.delete(c.path);

  const result = structuredClone(live);
  const oldMine = owners.get(myKey)?.paths ?? new Set<string>();
  const ownedByOthers = (k: string) => [...owners].some(([ok, o]) => ok !== myKey && o.paths.has(k));
  // Fields this manager applied before and no longer applies are removed, unless someone else also owns them.
  const removed = [...oldMine].filter((k) => !newKeys.has(k) && !ownedByOthers(k)).map(keyPath);
  removed.sort((a, b) => b.length - a.length);
  // Deepest first, but a keyed item's key fields stay until the item itself goes (it is found by them).
  for (const p of removed) if (!isItemKey(p)) deleteAt(result, p);
  const sorted = [...newPaths].sort((a, b) => a.length - b.length);
  for (const p of sorted) copyAt(result, input.applied, p);
  owners.set(myKey, {
    entry: { ...me, apiVersion: input.apiVersion, time: input.now, fieldsType: "FieldsV1" },
    paths: newKeys,
  });
  writeOwnership(result, owners);
  return { ok: true, object: result };
}

/** Ownership after a non-apply write: changed fields move to `manager`, removed fields leave every owner. */
export function recordUpdate(input: {
  before: JsonObject | undefined;
  after: JsonObject;
  manager: string;
  scope: "main" | "status" | "all";
  subresource?: string;
  apiVersion: string;
  now: string;
}): void {
  const owners = readOwnership(input.before ?? { metadata: {} });
  const beforePaths = new Set(input.before ? managedPaths(input.before, input.scope).map(pathKey) : []);
  const afterPaths = managedPaths(input.after, input.scope);
  const afterKeys = new Set(afterPaths.map(pathKey));
  const changed = afterPaths
    .filter((p) => !deepEqual(getAt(input.before, p), getAt(input.after, p)))
    .map(pathKey);
  const me = { manager: input.manager, operation: "Update" as const, subresource: input.subresource };
  const mine = owners.get(entryKey(me))?.paths ?? new Set<string>();
  for (const o of owners.values()) {
    for (const k of changed) o.paths.delete(k);
    for (const k of beforePaths) if (!afterKeys.has(k)) o.paths.delete(k);
  }
  for (const k of changed) mine.add(k);
  owners.set(entryKey(me), {
    entry: { ...me, apiVersion: input.apiVersion, time: input.now, fieldsType: "FieldsV1" },
    paths: mine,
  });
  writeOwnership(input.after, owners);
}
