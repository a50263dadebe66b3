// Creates, updates (PUT, /status), patches (merge, strategic, JSON, server-side apply) and the scale subresource.
// Each write: preconditions (409 on a stale resourceVersion), the subresource's scope (a main-resource write keeps
// status, a /status write changes only status), admission, managedFields bookkeeping, then the store. A write to a
// terminating object may remove finalizers but not add any; the last one removed deletes it.
import { randomUUID } from "node:crypto";
import type { Admission, WriteContext } from "./admission.js";
import { parseYamlBody } from "./body.js";
import type { Deletion } from "./deletion.js";
import { HttpError, notFound, qualified } from "./errors.js";
import { isObject, type Json, type JsonObject } from "./fieldset.js";
import { apply, describePath, recordUpdate } from "./ownership.js";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "./patch.js";
import { apiVersionOf, type ResourceType } from "./resources.js";
import type { Store } from "./store.js";

/** Groups whose kinds accept strategic merge patches (custom resources do not). */
const STRATEGIC_GROUPS = new Set([
  "",
  "apps",
  "policy",
  "coordination.k8s.io",
  "events.k8s.io",
  "rbac.authorization.k8s.io",
]);

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class Writes {
  constructor(
    private readonly store: Store,
    private readonly admission: Admission,
    private readonly deletion: Deletion,
  ) {}

  /** Stores a write to an existing object, refusing new finalizers on a terminating one. */
  private commit(rt: ResourceType, prev: JsonObject | undefined, next: JsonObject): JsonObject {
    const pm = (prev?.metadata ?? {}) as JsonObject;
    if (pm.deletionTimestamp !== undefined) {
      const had = new Set((pm.finalizers ?? []) as string[]);
      const added = (((next.metadata as JsonObject).finalizers ?? []) as string[]).filter((f) => !had.has(f));
      if (added.length > 0) {
        throw new HttpError(
          422,
          "Invalid",
          `${rt.kind} "${pm.name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        );
      }
    }
    return this.store.commit(rt, prev, next);
  }

  /** The response to a write: the stored object, after removing it if that write finished its deletion. */
  private respond(rt: ResourceType, stored: JsonObject): JsonObject {
    this.deletion.settle(rt, stored);
    return this.store.present(rt, stored);
  }

  private newMeta(rt: ResourceType, ns: string | undefined, o: JsonObject): JsonObject {
    const meta = { ...((o.metadata as JsonObject | undefined) ?? {}) };
    if (meta.name === undefined && typeof meta.generateName === "string") {
      meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    }
    if (rt.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== ns) {
        throw new HttpError(
          400,
          "BadRequest",
          "the namespace of the object does not match the namespace on the request",
        );
      }
      meta.namespace = ns as Json;
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.resourceVersion;
    // Only a DELETE marks an object as terminating.
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    const hasSpecLike = Object.keys(o).some(
      (k) => !["apiVersion", "kind", "metadata", "status", "data", "stringData", "type"].includes(k),
    );
    if (hasSpecLike && rt.kind !== "Event" && rt.kind !== "Lease") meta.generation = 1;
    else delete meta.generation;
    return meta;
  }

  create(
    rt: ResourceType,
    ns: string | undefined,
    body: JsonObject,
    q: Record<string, string>,
    ctx: WriteContext,
  ): JsonObject {
    const obj = structuredClone(body);
    obj.metadata = this.newMeta(rt, ns, obj);
    if (rt.status) delete obj.status;
    const meta = obj.metadata as JsonObject;
    if (this.store.find(rt, ns, meta.name as string)) {
      throw new HttpError(409, "AlreadyExists", `${rt.plural} "${meta.name}" already exists`, {
        name: meta.name as string,
        kind: rt.plural,
      });
    }
    const valid = this.admission.admit(rt, obj, ctx);
    recordUpdate({
      before: undefined,
      after: valid,
      manager: q.fieldManager ?? "unknown",
      scope: rt.status ? "main" : "all",
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.respond(rt, this.store.commit(rt, undefined, valid));
  }

  private precondition(rt: ResourceType, live: JsonObject, body: JsonObject): void {
    const want = (body.metadata as JsonObject | undefined)?.resourceVersion;
    const have = (live.metadata as JsonObject).resourceVersion;
    if (want !== undefined && want !== null && want !== "" && want !== have) {
      const name = (live.metadata as JsonObject).name as string;
      throw new HttpError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${qualified(rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: rt.group, kind: rt.plural },
      );
    }
  }

  /** Combines a write's body with the live object according to the subresource written. */
  private scoped(
    rt: ResourceType,
    live: JsonObject,
    body: JsonObject,
    subresource: string | undefined,
  ): JsonObject {
    if (subresource === "status") {
      const out = structuredClone(live);
      if (body.status === undefined) delete out.status;
      else out.status = structuredClone(body.status);
      return out;
    }
    const out = structuredClone(body);
    out.metadata = { ...((body.metadata as JsonObject | undefined) ?? {}) };
    if (rt.status) {
      if (live.status === undefined) delete out.status;
      else out.status = structuredClone(live.status);
    }
    (out.metadata as JsonObject).managedFields = (live.metadata as JsonObject).managedFields ?? [];
    return out;
  }

  scaleOf(rt: ResourceType, o: JsonObject): JsonObject {
    const meta = o.metadata as JsonObject;
    const at = (path: string | undefined) =>
      path
        ?.split(".")
        .filter(Boolean)
        .reduce<Json | undefined>((v, k) => (isObject(v) ? v[k] : undefined), o);
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
        creationTimestamp: meta.creationTimestamp,
      } as JsonObject,
      spec: { replicas: (at(rt.scale?.specReplicasPath) as number | undefined) ?? 0 },
      status: {
        replicas: (at(rt.scale?.statusReplicasPath) as number | undefined) ?? 0,
        ...(rt.scale?.labelSelectorPath && at(rt.scale.labelSelectorPath) !== undefined
          ? { selector: at(rt.scale.labelSelectorPath) as string }
          : {}),
      },
    };
  }

  private writeScale(
    rt: ResourceType,
    live: JsonObject,
    scale: JsonObject,
    manager: string,
    ctx: WriteContext,
  ): JsonObject {
    this.precondition(rt, live, scale);
    const replicas = (scale.spec as JsonObject | undefined)?.replicas;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
      throw new HttpError(422, "Invalid", "Scale.spec.replicas: must be a non-negative integer");
    }
    const next = structuredClone(live);
    const path = rt.scale!.specReplicasPath.split(".").filter(Boolean);
    let cur = next;
    for (const k of path.slice(0, -1)) {
      if (!isObject(cur[k])) cur[k] = {};
      cur = cur[k] as JsonObject;
    }
    cur[path[path.length - 1]!] = replicas;
    const valid = this.admission.admit(rt, next, ctx);
    recordUpdate({
      before: live,
      after: valid,
      manager,
      scope: "main",
      subresource: "scale",
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.scaleOf(rt, this.commit(rt, live, valid));
  }

  update(
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    sub: string | undefined,
    body: JsonObject,
    q: Record<string, string>,
    ctx: WriteContext,
  ): JsonObject {
    const live = this.store.mustGet(rt, ns, name);
    const manager = q.fieldManager ?? "unknown";
    if (sub === "scale") return this.writeScale(rt, live, body, manager, ctx);
    const bodyName = (body.metadata as JsonObject | undefined)?.name;
    if (bodyName !== undefined && bodyName !== name)
      throw new HttpError(400, "BadRequest", "the name of the object does not match the name on the URL");
    this.precondition(rt, live, body);
    const next = this.admission.admit(rt, this.scoped(rt, live, body, sub), ctx, live);
    recordUpdate({
      before: live,
      after: next,
      manager,
      scope: sub === "status" ? "status" : rt.status ? "main" : "all",
      ...(sub ? { subresource: sub } : {}),
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.respond(rt, this.commit(rt, live, next));
  }

  patch(
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    sub: string | undefined,
    raw: string,
    contentType: string,
    q: Record<string, string>,
    ctx: WriteContext,
  ): JsonObject {
    const type = contentType.split(";")[0]!.trim();
    const isApply = type === "application/apply-patch+yaml" || type === "application/apply-patch+json";
    if (!isApply && q.force !== undefined) {
      throw new HttpError(
        400,
        "BadRequest",
        "force: Invalid value: force flag must be unset for non-apply patch requests",
      );
    }
    const existing = this.store.find(rt, ns, name);
    const manager = q.fieldManager;
    if (isApply) {
      if (!manager)
        throw new HttpError(400, "BadRequest", "fieldManager: Required value: is required for apply patch");
      const applied = parseYamlBody(raw);
      const am = (applied.metadata as JsonObject | undefined) ?? {};
      if (am.name !== undefined && am.name !== name)
        throw new HttpError(400, "BadRequest", "the name of the object does not match the name on the URL");
      if (typeof applied.apiVersion !== "string" || typeof applied.kind !== "string") {
        throw new HttpError(400, "BadRequest", "apiVersion and kind must be set in an apply patch");
      }
      if (applied.kind !== rt.kind && sub !== "scale")
        throw new HttpError(400, "BadRequest", `kind ${applied.kind} does not match ${rt.kind}`);
      if (existing) this.precondition(rt, existing, applied);
      if (sub === "scale") {
        if (!existing) throw notFound(rt, name);
        return this.writeScale(rt, existing, applied, manager, ctx);
      }
      if (!existing && sub === "status") throw notFound(rt, name);
      let base: JsonObject | undefined = existing;
      if (!existing) base = { metadata: this.newMeta(rt, ns, { ...applied, metadata: { ...am, name } }) };
      if (rt.status && sub !== "status") {
        delete applied.status;
      }
      const result = apply({
        live: base,
        applied,
        manager,
        force: q.force === "true",
        scope: sub === "status" ? "status" : "main",
        ...(sub ? { subresource: sub } : {}),
        apiVersion: apiVersionOf(rt),
        now: now(),
      });
      if (!result.ok) {
        const causes = result.conflicts.map((c) => ({
          reason: "FieldManagerConflict",
          message: `conflict with "${c.manager}"`,
          field: describePath(JSON.parse(c.path) as string[]),
        }));
        throw new HttpError(
          409,
          "Conflict",
          `Apply failed with ${causes.length} conflict${causes.length > 1 ? "s" : ""}: ${causes.map((c) => `${c.message}: ${c.field}`).join(", ")}`,
          { causes },
        );
      }
      const next = this.admission.admit(rt, result.object, ctx, existing);
      // Defaults and pruning may change what is stored; ownership stays with what the manager applied.
      (next.metadata as JsonObject).managedFields =
        (result.object.metadata as JsonObject).managedFields ?? [];
      return this.respond(rt, this.commit(rt, existing, next));
    }
    if (!existing) throw notFound(rt, name);
    let patchBody: Json;
    try {
      patchBody = JSON.parse(raw) as Json;
    } catch {
      throw new HttpError(400, "BadRequest", "patch body is not JSON");
    }
    const base = sub === "scale" ? this.scaleOf(rt, existing) : this.store.present(rt, existing);
    let patched: Json;
    try {
      if (type === "application/merge-patch+json") patched = mergePatch(base, patchBody);
      else if (type === "application/strategic-merge-patch+json") {
        if (!STRATEGIC_GROUPS.has(rt.group)) {
          throw new HttpError(
            415,
            "UnsupportedMediaType",
            "strategic merge patch is not supported for custom resources",
          );
        }
        patched = strategicMergePatch(base, patchBody);
      } else if (type === "application/json-patch+json") patched = jsonPatch(base, patchBody);
      else
        throw new HttpError(
          415,
          "UnsupportedMediaType",
          `the body of the request was in an unknown format: ${type}`,
        );
    } catch (e) {
      if (e instanceof PatchError) throw new HttpError(422, "Invalid", e.message);
      throw e;
    }
    if (!isObject(patched)) throw new HttpError(422, "Invalid", "patch result is not an object");
    if (sub === "scale") return this.writeScale(rt, existing, patched, manager ?? "unknown", ctx);
    this.precondition(rt, existing, patched);
    const next = this.admission.admit(rt, this.scoped(rt, existing, patched, sub), ctx, existing);
    recordUpdate({
      before: existing,
      after: next,
      manager: manager ?? "unknown",
      scope: sub === "status" ? "status" : rt.status ? "main" : "all",
      ...(sub ? { subresource: sub } : {}),
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.respond(rt, this.commit(rt, existing, next));
  }
}
