// What a write goes through before storage: built-in defaults (defaults.ts), names, MicroTime fields, core Events' involvedObject, and for CRDs
// the schema (pruning, defaults, OpenAPI and CEL rules) with fieldValidation (Strict rejects unknown fields, Warn,
// the default, answers with a Warning header, Ignore prunes quietly). Built-in kinds have no schema here.
import { type CrdValidation, makeCrdValidator } from "./crd-validator.js";
import { Defaults } from "./defaults.js";
import { HttpError } from "./errors.js";
import { isObject, type Json, type JsonObject } from "./fieldset.js";
import type { ResourceType } from "./resources.js";

type FieldValidation = "Strict" | "Warn" | "Ignore";

const MICROTIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;
const MICROTIME_FIELDS: Record<string, string[][]> = {
  "coordination.k8s.io/Lease": [
    ["spec", "renewTime"],
    ["spec", "acquireTime"],
  ],
  "events.k8s.io/Event": [["eventTime"]],
};
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** One write's view of admission: the fieldValidation it asked for and the warnings to send back. */
export interface WriteContext {
  fieldValidation: FieldValidation;
  warnings: string[];
}

/** `warnings` collects what the response's Warning header will carry. */
export function writeContext(q: Record<string, string>, warnings: string[]): WriteContext {
  const v = q.fieldValidation ?? "Warn";
  if (v !== "Strict" && v !== "Warn" && v !== "Ignore") {
    throw new HttpError(400, "BadRequest", `fieldValidation: Unsupported value: "${v}"`);
  }
  return { fieldValidation: v, warnings };
}

export class Admission {
  private readonly schemas = new Map<string, (obj: JsonObject) => CrdValidation>();
  private readonly defaults = new Defaults();

  /** Validates a CRD kind against its openAPIV3Schema from now on. */
  addSchema(rt: ResourceType, openAPIV3Schema: JsonObject): void {
    this.schemas.set(`${rt.group}/${rt.kind}`, makeCrdValidator(openAPIV3Schema));
  }

  /** The object to store (`prev`: the live one an update replaces), or a 400/422 as the real server answers. */
  admit(rt: ResourceType, o: JsonObject, ctx: WriteContext, prev?: JsonObject): JsonObject {
    this.defaults.apply(rt, o, prev);
    checkMicroTime(rt, o);
    const meta = o.metadata as JsonObject | undefined;
    if (!meta || typeof meta.name !== "string" || !NAME.test(meta.name)) {
      throw new HttpError(
        422,
        "Invalid",
        `${rt.kind} "${meta?.name ?? ""}" is invalid: metadata.name: Invalid value`,
      );
    }
    if (rt.group === "" && rt.kind === "Event") checkInvolvedObject(o);
    const schema = this.schemas.get(`${rt.group}/${rt.kind}`);
    if (!schema) return o;
    const r = schema(o);
    if (!r.ok) {
      throw new HttpError(
        422,
        "Invalid",
        `${rt.kind}.${rt.group} "${meta.name}" is invalid: ${r.causes.join(", ")}`,
        {
          name: meta.name,
          group: rt.group,
          kind: rt.kind,
          causes: r.causes.map((message) => ({ message })),
        },
      );
    }
    if (r.unknown.length > 0 && ctx.fieldValidation === "Strict") {
      throw new HttpError(
        400,
        "BadRequest",
        `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${r.unknown.map((f) => `unknown field "${f}"`).join(", ")}`,
      );
    }
    if (ctx.fieldValidation === "Warn") for (const f of r.unknown) ctx.warnings.push(`unknown field "${f}"`);
    return r.object;
  }
}

function checkMicroTime(rt: ResourceType, o: JsonObject): void {
  for (const path of MICROTIME_FIELDS[`${rt.group}/${rt.kind}`] ?? []) {
    let v: Json | undefined = o;
    for (const p of path) v = isObject(v) ? v[p] : undefined;
    if (v !== undefined && v !== null && (typeof v !== "string" || !MICROTIME.test(v))) {
      throw new HttpError(
        400,
        "BadRequest",
        `${path.join(".")}: parsing time ${JSON.stringify(v)} as RFC3339Micro: cannot parse`,
      );
    }
  }
}

/** A core Event names what it is about; the real server refuses one whose namespace differs from it. */
function checkInvolvedObject(o: JsonObject): void {
  const meta = o.metadata as JsonObject;
  const inv = o.involvedObject;
  const invalid = (m: string) => new HttpError(422, "Invalid", `Event "${meta.name}" is invalid: ${m}`);
  if (!isObject(inv)) throw invalid("involvedObject: Required value");
  if (typeof inv.kind !== "string" || inv.kind === "") throw invalid("involvedObject.kind: Required value");
  if (inv.namespace !== undefined && inv.namespace !== "" && inv.namespace !== meta.namespace) {
    throw invalid(
      `involvedObject.namespace: Invalid value: "${inv.namespace}": does not match event.namespace`,
    );
  }
}
