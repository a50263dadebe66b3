// Field sets as server-side apply sees them: leaf paths through maps, associative lists (keyed items `k:{...}`),
// sets of scalars (`v:...`), and atomic lists (a leaf as a whole). Encoded in metadata.managedFields as FieldsV1,
// the same shape a real API server returns. The list-type table below follows the Kubernetes OpenAPI markers for
// the fields the operator uses; lists not named here are atomic.
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };
export type Path = string[];

const SET_LISTS = new Set(["finalizers", "drop", "add"]);

function listKeys(field: string, items: Json[]): string[] | undefined {
  const objects = items.filter(isObject);
  if (objects.length !== items.length || objects.length === 0) return undefined;
  const all = (k: string) => objects.every((o) => o[k] !== undefined);
  switch (field) {
    case "ownerReferences":
      return ["uid"];
    case "conditions":
      return ["type"];
    case "ports":
      if (all("containerPort")) return ["containerPort", "protocol"].filter(all);
      if (all("port")) return ["port", "protocol"].filter(all);
      return undefined;
    case "topologySpreadConstraints":
      return ["topologyKey", "whenUnsatisfiable"];
    case "volumeMounts":
      return ["mountPath"];
    case "containers":
    case "initContainers":
    case "ephemeralContainers":
    case "volumes":
    case "env":
    case "imagePullSecrets":
      return ["name"];
    default:
      return undefined;
  }
}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function keySegment(keys: string[], item: JsonObject): string {
  const k: JsonObject = {};
  for (const key of [...keys].sort()) k[key] = item[key] ?? null;
  return `k:${JSON.stringify(k)}`;
}

/** Leaf paths of `value` under `prefix`; keyed list items also contribute their own path (the item marker). */
export function fieldPaths(value: JsonObject, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = [...prefix, `f:${k}`];
    if (isObject(v)) {
      if (Object.keys(v).length === 0) out.push(p);
      else out.push(...fieldPaths(v, p));
    } else if (Array.isArray(v)) {
      const keys = listKeys(k, v);
      if (SET_LISTS.has(k) && v.every((x) => !isObject(x) && !Array.isArray(x))) {
        for (const x of v) out.push([...p, `v:${JSON.stringify(x)}`]);
      } else if (keys) {
        for (const item of v as JsonObject[]) {
          const ip = [...p, keySegment(keys, item)];
          out.push(ip);
          out.push(...fieldPaths(item, ip));
        }
      } else out.push(p);
    } else out.push(p);
  }
  return out;
}

function findItem(list: Json[], seg: string): number {
  if (seg.startsWith("k:")) {
    const key = JSON.parse(seg.slice(2)) as JsonObject;
    return list.findIndex(
      (x) => isObject(x) && Object.entries(key).every(([k, v]) => deepEqual(x[k] ?? null, v)),
    );
  }
  const val = JSON.parse(seg.slice(2)) as Json;
  return list.findIndex((x) => deepEqual(x, val));
}

/** The value at `path`, or undefined. */
export function getAt(obj: Json | undefined, path: Path): Json | undefined {
  let cur: Json | undefined = obj;
  for (const seg of path) {
    if (cur === undefined) return undefined;
    if (seg.startsWith("f:")) {
      if (!isObject(cur)) return undefined;
      cur = cur[seg.slice(2)];
    } else {
      if (!Array.isArray(cur)) return undefined;
      const i = findItem(cur, seg);
      cur = i >= 0 ? cur[i] : undefined;
    }
  }
  return cur;
}

/** Sets the value at `path` (from `source`), creating maps and keyed items on the way. */
export function copyAt(target: JsonObject, source: JsonObject, path: Path): void {
  let cur: Json = target;
  let src: Json | undefined = source;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (seg.startsWith("f:")) {
      const name = seg.slice(2);
      const obj = cur as JsonObject;
      src = isObject(src) ? src[name] : undefined;
      if (last) {
        if (src !== undefined) obj[name] = structuredClone(src);
        return;
      }
      const next = path[i + 1]!;
      if (next.startsWith("f:")) {
        if (!isObject(obj[name])) obj[name] = {};
      } else if (!Array.isArray(obj[name])) obj[name] = [];
      cur = obj[name]!;
    } else {
      const list = cur as Json[];
      const srcList = Array.isArray(src) ? src : [];
      const si = findItem(srcList, seg);
      src = si >= 0 ? srcList[si] : undefined;
      let ti = findItem(list, seg);
      if (seg.startsWith("v:")) {
        if (ti < 0) list.push(JSON.parse(seg.slice(2)) as Json);
        return;
      }
      if (ti < 0) {
        list.push(JSON.parse(seg.slice(2)) as JsonObject);
        ti = list.length - 1;
      }
      if (last) return;
      cur = list[ti]!;
    }
  }
}

/** Removes the field, keyed item or set value at `path`; empty parent maps are left as they are. */
export function deleteAt(target: JsonObject, path: Path): void {
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length === 0 ? target : getAt(target, parentPath);
  const seg = path[path.length - 1]!;
  if (seg.startsWith("f:")) {
    if (isObject(parent)) delete parent[seg.slice(2)];
  } else if (Array.isArray(parent)) {
    const i = findItem(parent, seg);
    if (i >= 0) parent.splice(i, 1);
  }
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export const pathKey = (p: Path): string => JSON.stringify(p);
export const keyPath = (k: string): Path => JSON.parse(k) as Path;

/** FieldsV1 encoding of a set of paths. */
export function encodeFieldsV1(paths: Iterable<Path>): JsonObject {
  const root: JsonObject = {};
  for (const p of paths) {
    let node = root;
    for (const seg of p) {
      if (!isObject(node[seg])) node[seg] = {};
      node = node[seg] as JsonObject;
    }
    if (p[p.length - 1]?.startsWith("k:")) node["."] = {};
  }
  return root;
}

export function decodeFieldsV1(fields: Json | undefined, prefix: Path = []): Path[] {
  if (!isObject(fields)) return [];
  const out: Path[] = [];
  for (const [seg, child] of Object.entries(fields)) {
    if (seg === ".") {
      out.push(prefix);
      continue;
    }
    const p = [...prefix, seg];
    if (isObject(child) && Object.keys(child).length > 0) out.push(...decodeFieldsV1(child, p));
    else out.push(p);
  }
  return out;
}
