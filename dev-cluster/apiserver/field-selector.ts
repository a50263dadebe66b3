// Field selectors as the API server parses them (`a=b`, `a==b`, `a!=b`, comma-separated), over the fields each
// kind supports: metadata.name and metadata.namespace everywhere, plus the kind's own (an Event's involvedObject.*,
// which `kubectl describe` uses to list an object's events; a Pod's spec.nodeName and status.phase). Any other
// field is a 400, as on a real server.
import { isObject, type Json, type JsonObject } from "./fieldset.js";
import type { ResourceType } from "./resources.js";

export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

const COMMON = ["metadata.name", "metadata.namespace"];
const BY_KIND: Record<string, string[]> = {
  "/Event": [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  "/Pod": [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.phase",
    "status.podIP",
  ],
  "/Secret": ["type"],
  "/Namespace": ["status.phase"],
};

/** Parses `text` for `rt`; throws an Error naming the unsupported field or the bad term. */
export function parseFieldSelector(rt: ResourceType, text: string | undefined): FieldRequirement[] {
  const allowed = new Set([...COMMON, ...(BY_KIND[`${rt.group}/${rt.kind}`] ?? [])]);
  const out: FieldRequirement[] = [];
  for (const term of (text ?? "").split(",").map((t) => t.trim())) {
    if (term === "") continue;
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new Error(`invalid field selector: ${term}`);
    const field = m[1]!;
    if (!allowed.has(field)) throw new Error(`field label not supported: ${field}`);
    out.push({ field, equal: m[2] !== "!=", value: m[3]! });
  }
  return out;
}

export function matchesFields(reqs: FieldRequirement[], o: JsonObject): boolean {
  return reqs.every((r) => (fieldValue(o, r.field) === r.value) === r.equal);
}

function fieldValue(o: JsonObject, field: string): string {
  // An Event's `source` selects on source.component.
  const path = field === "source" ? ["source", "component"] : field.split(".");
  let v: Json | undefined = o;
  for (const p of path) v = isObject(v) ? v[p] : undefined;
  return v === undefined || v === null ? "" : String(v);
}
