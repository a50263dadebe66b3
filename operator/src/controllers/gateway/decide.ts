// The decision of a reconcile, pure: from what the informers hold (the parsed CR, Secrets' key names, the owned
// objects) to what must be written. No I/O, table-tested; the status it leads to is status.ts.
import { createHash } from "node:crypto";
import { hookSecretRefs } from "../../api/namespaces.js";
import type { ParsedGateway, RealtimeGateway, SecretKeyRef } from "../../api/realtimegateway.js";
import { optionalObjects, type RenderedObject, renderAll } from "../../render/index.js";
import { ADMIN_SECRET_KEY, names } from "../../render/labels.js";
import { isSubset } from "../../runtime/compare.js";
import type { KubeObject } from "../../runtime/kube.js";

export const APPLIED_HASH_ANNOTATION = "rtgw.dev/applied-hash";

/** What a referenced Secret looks like in the cache: its key names only, never the values. */
export interface SecretKeys {
  keys: string[];
}

export interface Observed {
  parsed: ParsedGateway;
  secret: (namespace: string, name: string) => SecretKeys | undefined;
  owned: (kind: string, namespace: string, name: string) => KubeObject | undefined;
}

export interface ObjectKey {
  kind: string;
  namespace: string;
  name: string;
}

/** An object to delete: its key and the uid seen controlled by the gateway (a delete precondition). */
export interface ObsoleteObject extends ObjectKey {
  uid: string;
}

export type Decision =
  | { kind: "invalid"; message: string }
  | { kind: "blocked"; reason: "SecretMissing" | "AdminSecretInvalid"; message: string }
  | {
      kind: "apply";
      gateway: RealtimeGateway;
      desired: RenderedObject[];
      changed: RenderedObject[];
      /**
       * Owned objects the spec no longer renders: the config-file ConfigMap once spec.namespaces/proxy went, the
       * NetworkPolicy once switched off, the Ingress once spec.ingress went (render/index.ts optionalObjects).
       */
      obsolete: ObsoleteObject[];
      /** The admin-key Secret does not exist: create it (once; an existing one is never rewritten). */
      createAdminSecret: boolean;
    };

function secretProblems(gw: RealtimeGateway, secret: Observed["secret"]): string[] {
  const refs: [string, SecretKeyRef][] = [];
  if (gw.spec.redis.secretRef) refs.push(["redis.secretRef", gw.spec.redis.secretRef]);
  if (gw.spec.auth?.jwtSecretRef) refs.push(["auth.jwtSecretRef", gw.spec.auth.jwtSecretRef]);
  refs.push(...hookSecretRefs(gw.spec));
  const out: string[] = [];
  for (const [field, ref] of refs) {
    const s = secret(gw.metadata.namespace, ref.name);
    if (!s) out.push(`${field}: Secret ${gw.metadata.namespace}/${ref.name} not found`);
    else if (!s.keys.includes(ref.key))
      out.push(`${field}: Secret ${gw.metadata.namespace}/${ref.name} has no key "${ref.key}"`);
  }
  return out;
}

/** The rendered object with a hash of itself, so removing a field is noticed even though live ⊇ desired. */
export function withAppliedHash(obj: RenderedObject): RenderedObject {
  const hash = createHash("sha256").update(JSON.stringify(obj)).digest("hex").slice(0, 16);
  const annotations = {
    ...((obj.metadata as { annotations?: Record<string, string> }).annotations ?? {}),
    [APPLIED_HASH_ANNOTATION]: hash,
  };
  return { ...obj, metadata: { ...obj.metadata, annotations } as RenderedObject["metadata"] };
}

export function needsApply(desired: RenderedObject, live: KubeObject | undefined): boolean {
  return live === undefined || !isSubset(desired, live);
}

export function decide(o: Observed): Decision {
  if (!o.parsed.ok) return { kind: "invalid", message: o.parsed.message };
  const gw = o.parsed.gateway;
  const problems = secretProblems(gw, o.secret);
  if (problems.length > 0) {
    return {
      kind: "blocked",
      reason: "SecretMissing",
      message: `${problems.join("; ")}; not rolling out until it exists`,
    };
  }
  // The admin key is ours: missing, we create it; present without its key, only a person can say why.
  const admin = o.secret(gw.metadata.namespace, names.adminSecret(gw));
  if (admin && !admin.keys.includes(ADMIN_SECRET_KEY)) {
    return {
      kind: "blocked",
      reason: "AdminSecretInvalid",
      message: `Secret ${gw.metadata.namespace}/${names.adminSecret(gw)} has no key "${ADMIN_SECRET_KEY}"; delete it and the operator creates a new one; not rolling out until then`,
    };
  }
  const desired = renderAll({ gateway: gw }).map(withAppliedHash);
  const changed = desired.filter((d) =>
    needsApply(d, o.owned(d.kind, d.metadata.namespace, d.metadata.name)),
  );
  return {
    kind: "apply",
    gateway: gw,
    desired,
    changed,
    obsolete: obsolete(gw, desired, o.owned),
    createAdminSecret: admin === undefined,
  };
}

/**
 * Objects rendered only for some specs: present, controlled by this gateway (a controller owner reference with its
 * uid: an object someone else made under the same name, or one only labelled like ours, is never touched), and no
 * longer desired.
 */
function obsolete(
  gw: RealtimeGateway,
  desired: RenderedObject[],
  owned: Observed["owned"],
): ObsoleteObject[] {
  const { namespace, uid } = gw.metadata;
  const out: ObsoleteObject[] = [];
  for (const { kind, name } of optionalObjects(gw)) {
    if (desired.some((d) => d.kind === kind && d.metadata.name === name)) continue;
    const live = owned(kind, namespace, name);
    const controlled = live?.metadata.ownerReferences?.some((r) => r.controller && r.uid === uid);
    if (live?.metadata.uid && controlled) out.push({ kind, namespace, name, uid: live.metadata.uid });
  }
  return out;
}
