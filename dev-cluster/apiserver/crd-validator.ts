// What the API server does to a custom resource before storing it, from the CRD's structural schema: prune unknown
// fields, apply defaults, validate the OpenAPI constraints (ajv) and evaluate the x-kubernetes-validations CEL rules
// (@marcbachmann/cel-js, integers as CEL ints). Not covered: transition rules (oldSelf), CEL cost limits, formats.
import { evaluate } from "@marcbachmann/cel-js";
import { Ajv } from "ajv";
import { isObject, type Json, type JsonObject } from "./fieldset.js";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  default?: Json;
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  [k: string]: unknown;
};

/** Prunes unknown fields (their paths go to `pruned`, for fieldValidation) and applies defaults. */
export function pruneAndDefault(
  value: Json | undefined,
  schema: Schema,
  pruned: string[] = [],
  path = "",
): Json | undefined {
  if (value === undefined || value === null) return value;
  if (isObject(value)) {
    const out: JsonObject = {};
    const props = schema.properties;
    for (const [k, v] of Object.entries(value)) {
      const ps =
        props?.[k] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (ps) out[k] = pruneAndDefault(v, ps, pruned, `${path}.${k}`) as Json;
      else if (schema["x-kubernetes-preserve-unknown-fields"] || schema.additionalProperties === true)
        out[k] = v;
      // else: pruned, as the API server does for fields the schema does not know.
      else pruned.push(`${path}.${k}`.slice(1));
    }
    for (const [k, ps] of Object.entries(props ?? {})) {
      if (out[k] === undefined && ps.default !== undefined) {
        out[k] = pruneAndDefault(structuredClone(ps.default), ps) as Json;
      }
    }
    return out;
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.map((v, i) => pruneAndDefault(v, items, pruned, `${path}[${i}]`) as Json);
  }
  return value;
}

/** The value as CEL sees it: integer fields become CEL ints (BigInt), numbers stay doubles. */
function toCel(value: Json | undefined, schema: Schema): unknown {
  if (value === undefined || value === null) return value;
  if (
    typeof value === "number" &&
    (schema.type === "integer" || (schema["x-kubernetes-int-or-string"] && Number.isInteger(value)))
  ) {
    return BigInt(value);
  }
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const ps =
        schema.properties?.[k] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : {});
      out[k] = toCel(v, ps as Schema);
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema.items ?? {}));
  return value;
}

function celErrors(value: Json | undefined, schema: Schema, path: string): string[] {
  if (value === undefined || value === null) return [];
  const out: string[] = [];
  for (const v of schema["x-kubernetes-validations"] ?? []) {
    let ok: unknown;
    try {
      ok = evaluate(v.rule, { self: toCel(value, schema) });
    } catch (e) {
      ok = `error: ${(e as Error).message}`;
    }
    if (ok !== true) out.push(`${path}: Invalid value: ${v.message ?? `failed rule: ${v.rule}`}`);
  }
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const ps =
        schema.properties?.[k] ??
        (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (ps && k !== "metadata") out.push(...celErrors(v, ps, `${path}.${k}`));
    }
  } else if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((v, i) => {
      out.push(...celErrors(v, items, `${path}[${i}]`));
    });
  }
  return out;
}

/** `unknown`: the fields pruned (what fieldValidation=Strict rejects and Warn warns about). */
export type CrdValidation =
  | { ok: true; object: JsonObject; unknown: string[] }
  | { ok: false; causes: string[] };

export function makeCrdValidator(openAPIV3Schema: JsonObject): (obj: JsonObject) => CrdValidation {
  const schema = openAPIV3Schema as Schema;
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const validate = ajv.compile(stripForAjv(openAPIV3Schema) as object);
  return (obj) => {
    // metadata is the API server's, not the schema's: never pruned.
    const { metadata, ...rest } = obj;
    const unknown: string[] = [];
    const pruned = { ...(pruneAndDefault(rest, schema, unknown) as JsonObject), metadata: metadata ?? {} };
    const causes: string[] = [];
    if (!validate(pruned)) {
      for (const e of validate.errors ?? [])
        causes.push(`${e.instancePath.replaceAll("/", ".") || "."}: ${e.message}`);
    }
    if (causes.length === 0) causes.push(...celErrors(pruned, schema, ""));
    return causes.length > 0 ? { ok: false, causes } : { ok: true, object: pruned, unknown };
  };
}

/** Ajv treats int-or-string's anyOf as intended; the x-kubernetes-* keywords are ignored (strict: false). */
function stripForAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripForAjv);
  if (!isObject(node as Json)) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === "format") continue;
    out[k] =
      k === "properties"
        ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, stripForAjv(s)]))
        : stripForAjv(v);
  }
  return out;
}
