// The OpenAPI documents kubectl reads: /openapi/v3 (a root naming each group version's document) and
// /openapi/v3/<api|apis/group>/<version>, and the single /openapi/v2. Each resource's operations carry
// x-kubernetes-group-version-kind and, on PATCH, the fieldValidation parameter: that is how kubectl decides the
// server validates fields itself (`apply --validate`, the default). Schemas: a CRD's openAPIV3Schema with the
// metadata reference, as `kubectl explain` renders it; built-in kinds get a stub object schema only.
import { createHash } from "node:crypto";
import type { Json, JsonObject } from "./fieldset.js";
import { basePath, type ResourceType } from "./resources.js";

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const REF_V3 = "#/components/schemas/";

const OBJECT_META_SCHEMA: JsonObject = {
  type: "object",
  description:
    "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
  properties: {
    name: { type: "string", description: "Name must be unique within a namespace." },
    namespace: {
      type: "string",
      description: "Namespace defines the space within which each name must be unique.",
    },
    labels: {
      type: "object",
      additionalProperties: { type: "string", default: "" },
      description: "Map of string keys and values that can be used to organize and categorize objects.",
    },
    annotations: {
      type: "object",
      additionalProperties: { type: "string", default: "" },
      description: "Annotations is an unstructured key value map stored with a resource.",
    },
    uid: { type: "string", description: "UID is the unique in time and space value for this object." },
    resourceVersion: {
      type: "string",
      description: "An opaque value that represents the internal version of this object.",
    },
    generation: {
      type: "integer",
      format: "int64",
      description: "A sequence number representing a specific generation of the desired state.",
    },
    creationTimestamp: {
      type: "string",
      format: "date-time",
      description: "The server time when this object was created.",
    },
    deletionTimestamp: {
      type: "string",
      format: "date-time",
      description: "The time after which this resource will be deleted.",
    },
    deletionGracePeriodSeconds: {
      type: "integer",
      format: "int64",
      description: "Seconds allowed for this object to gracefully terminate.",
    },
    finalizers: {
      type: "array",
      items: { type: "string", default: "" },
      "x-kubernetes-list-type": "set",
      description: "Must be empty before the object is deleted from the registry.",
    },
    ownerReferences: {
      type: "array",
      items: { type: "object" },
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["uid"],
      description: "List of objects depended by this object.",
    },
  },
};

/** io.k8s.api.apps.v1.Deployment, dev.rtgw.v1alpha1.RealtimeGateway: the names the real server gives schemas. */
export function schemaName(rt: ResourceType): string {
  if (rt.schema) return `${rt.group.split(".").reverse().join(".")}.${rt.version}.${rt.kind}`;
  const pkg = rt.group === "" ? "core" : rt.group.replace(/\.k8s\.io$/, "");
  return `io.k8s.api.${pkg}.${rt.version}.${rt.kind}`;
}

function gvk(rt: ResourceType): Json {
  return [{ group: rt.group, version: rt.version, kind: rt.kind }];
}

function kindSchema(rt: ResourceType): JsonObject {
  const s: JsonObject = rt.schema
    ? structuredClone(rt.schema)
    : { type: "object", description: `${rt.kind} (schema not modelled by the fake API server)` };
  const props = { ...((s.properties ?? {}) as JsonObject) };
  props.apiVersion = {
    type: "string",
    description: "APIVersion defines the versioned schema of this representation of an object.",
  };
  props.kind = {
    type: "string",
    description: "Kind is a string value representing the REST resource this object represents.",
  };
  props.metadata = {
    description: "Standard object's metadata.",
    allOf: [{ $ref: `${REF_V3}${OBJECT_META}` }],
    default: {},
  };
  s.properties = props;
  s["x-kubernetes-group-version-kind"] = gvk(rt);
  return s;
}

function listSchema(rt: ResourceType): JsonObject {
  return {
    type: "object",
    description: `${rt.kind}List is a list of ${rt.kind}`,
    required: ["items"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      items: { type: "array", items: { $ref: `${REF_V3}${schemaName(rt)}` } },
    },
    "x-kubernetes-group-version-kind": [{ group: rt.group, version: rt.version, kind: `${rt.kind}List` }],
  };
}

const QUERY = (name: string): JsonObject => ({
  name,
  in: "query",
  schema: { type: "string" },
  uniqueItems: true,
});
const WRITE_PARAMS = ["dryRun", "fieldManager", "fieldValidation"];

function operation(rt: ResourceType, action: string, params: string[], body: string[] = []): JsonObject {
  const ref = { $ref: `${REF_V3}${schemaName(rt)}` };
  return {
    operationId: `${action}${rt.kind}`,
    parameters: params.map(QUERY),
    ...(body.length
      ? {
          requestBody: {
            content: Object.fromEntries(body.map((t) => [t, { schema: { type: "object" } }])),
            required: true,
          },
        }
      : {}),
    responses: { "200": { description: "OK", content: { "application/json": { schema: ref } } } },
    "x-kubernetes-action": action,
    // One object on an operation (a list on a schema), as kubectl's fieldValidation check reads it.
    "x-kubernetes-group-version-kind": { group: rt.group, version: rt.version, kind: rt.kind },
  };
}

/**
 * The patch types a PATCH operation lists. Strategic merge is left out everywhere: custom resources do not take it,
 * and for built-in kinds (accepted, but with stub schemas here) kubectl's client-side apply then builds the
 * strategic patch from its compiled-in types instead of failing to find fields in the stub.
 */
const PATCH_TYPES = [
  "application/apply-patch+yaml",
  "application/json-patch+json",
  "application/merge-patch+json",
];

function paths(rt: ResourceType): JsonObject {
  const ns = rt.namespaced ? "/namespaces/{namespace}" : "";
  const coll = `${basePath(rt)}${ns}/${rt.plural}`;
  const one = `${coll}/{name}`;
  const out: JsonObject = {
    [coll]: {
      get: operation(rt, "list", ["labelSelector", "fieldSelector", "watch", "resourceVersion"]),
      post: operation(rt, "post", WRITE_PARAMS, ["application/json", "application/yaml"]),
    },
    [one]: {
      get: operation(rt, "get", []),
      put: operation(rt, "put", WRITE_PARAMS, ["application/json", "application/yaml"]),
      patch: operation(rt, "patch", [...WRITE_PARAMS, "force"], PATCH_TYPES),
      delete: operation(rt, "delete", ["gracePeriodSeconds", "propagationPolicy", "dryRun"]),
    },
  };
  if (rt.status) {
    out[`${one}/status`] = {
      get: operation(rt, "get", []),
      put: operation(rt, "put", WRITE_PARAMS, ["application/json"]),
      patch: operation(rt, "patch", [...WRITE_PARAMS, "force"], PATCH_TYPES),
    };
  }
  return out;
}

/** The group-version paths of /openapi/v3: `api/v1`, `apis/apps/v1`, ... */
function gvPath(rt: ResourceType): string {
  return basePath(rt).slice(1);
}

export function openApiV3Document(types: ResourceType[], path: string): JsonObject | undefined {
  const ts = types.filter((t) => gvPath(t) === path);
  if (ts.length === 0) return undefined;
  const schemas: JsonObject = { [OBJECT_META]: OBJECT_META_SCHEMA };
  let allPaths: JsonObject = {};
  for (const t of ts) {
    schemas[schemaName(t)] = kindSchema(t);
    schemas[`${schemaName(t)}List`] = listSchema(t);
    allPaths = { ...allPaths, ...paths(t) };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.35.0" },
    paths: allPaths,
    components: { schemas },
  };
}

export function openApiV3Root(types: ResourceType[]): JsonObject {
  const out: JsonObject = {};
  for (const p of new Set(types.map(gvPath))) {
    const hash = createHash("sha256")
      .update(JSON.stringify(openApiV3Document(types, p)))
      .digest("hex");
    out[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash.slice(0, 32).toUpperCase()}` };
  }
  return { paths: out };
}

/** Swagger 2.0: the same operations and schemas, with 2.0's parameter and reference shapes. */
export function openApiV2(types: ResourceType[]): JsonObject {
  const definitions: JsonObject = { [OBJECT_META]: OBJECT_META_SCHEMA };
  const allPaths: JsonObject = {};
  for (const t of types) {
    definitions[schemaName(t)] = kindSchema(t);
    definitions[`${schemaName(t)}List`] = listSchema(t);
    for (const [p, ops] of Object.entries(paths(t))) {
      const v2: JsonObject = {};
      for (const [method, op] of Object.entries(ops as JsonObject)) {
        const o = op as JsonObject;
        const { requestBody, responses, ...rest } = o;
        v2[method] = {
          ...rest,
          consumes: Object.keys(((requestBody as JsonObject | undefined)?.content ?? {}) as JsonObject),
          produces: ["application/json"],
          parameters: [
            ...((o.parameters as JsonObject[]).map((q) => ({
              name: q.name,
              in: "query",
              type: "string",
              uniqueItems: true,
            })) as Json[]),
            ...(requestBody
              ? [{ name: "body", in: "body", required: true, schema: { type: "object" } }]
              : []),
          ],
          responses: { "200": { description: "OK", schema: { $ref: `#/definitions/${schemaName(t)}` } } },
        };
      }
      allPaths[p] = v2;
    }
  }
  const text = JSON.stringify({ definitions }).replaceAll(REF_V3, "#/definitions/");
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: "v1.35.0" },
    paths: allPaths,
    ...(JSON.parse(text) as JsonObject),
  };
}
