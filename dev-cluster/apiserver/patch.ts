// Patch formats: JSON merge patch (RFC 7386), a strategic merge patch that merges the keyed lists the operator
// uses by their merge key (no $patch/$retainKeys directives), and JSON patch (RFC 6902: add, remove, replace, test).
import { deepEqual, isObject, type Json, type JsonObject } from "./fieldset.js";

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ownerReferences: "uid",
  conditions: "type",
  imagePullSecrets: "name",
};

export function strategicMergePatch(target: Json | undefined, patch: Json, field = ""): Json {
  const key = MERGE_KEYS[field];
  if (Array.isArray(patch) && key && Array.isArray(target)) {
    const out = structuredClone(target);
    for (const item of patch) {
      if (!isObject(item)) continue;
      const i = out.findIndex((x) => isObject(x) && x[key] === item[key]);
      if (i >= 0) out[i] = strategicMergePatch(out[i], item);
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v, k);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  return path
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

export class PatchError extends Error {}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError("a JSON patch is a list of operations");
  let doc = structuredClone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== "string" || typeof op.path !== "string")
      throw new PatchError("bad op");
    const segs = pointer(op.path);
    if (segs.length === 0) {
      if (op.op === "replace" || op.op === "add") doc = structuredClone(op.value ?? null);
      continue;
    }
    let parent: Json = doc;
    for (const s of segs.slice(0, -1)) {
      const next: Json | undefined = Array.isArray(parent)
        ? parent[Number(s)]
        : isObject(parent)
          ? parent[s]
          : undefined;
      if (next === undefined) throw new PatchError(`path ${op.path} does not exist`);
      parent = next;
    }
    const last = segs[segs.length - 1]!;
    const current = Array.isArray(parent)
      ? parent[Number(last)]
      : isObject(parent)
        ? parent[last]
        : undefined;
    switch (op.op) {
      case "test":
        if (!deepEqual(current, op.value)) throw new PatchError(`test failed at ${op.path}`);
        break;
      case "remove":
        if (current === undefined) throw new PatchError(`path ${op.path} does not exist`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else if (isObject(parent)) delete parent[last];
        break;
      case "add":
      case "replace":
        if (op.op === "replace" && current === undefined)
          throw new PatchError(`path ${op.path} does not exist`);
        if (Array.isArray(parent)) {
          if (last === "-") parent.push(structuredClone(op.value ?? null));
          else if (op.op === "add") parent.splice(Number(last), 0, structuredClone(op.value ?? null));
          else parent[Number(last)] = structuredClone(op.value ?? null);
        } else if (isObject(parent)) parent[last] = structuredClone(op.value ?? null);
        break;
      default:
        throw new PatchError(`unsupported op ${op.op}`);
    }
  }
  return doc;
}
