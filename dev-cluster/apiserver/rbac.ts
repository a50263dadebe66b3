// Authentication (bearer tokens) and RBAC authorization for the API server, as kube-apiserver's RBAC authorizer
// decides: a request's attributes (request.ts: verb, API group, resource/subresource, namespace, name) are allowed
// when a rule of a Role bound in that namespace, or of a ClusterRole bound cluster-wide (or in that namespace),
// grants them. The Roles and bindings are read from the API server's own store at each request, so an admin
// editing one changes what its subjects may do, as on a real cluster. Plugged in as the server's `Authorizer` by
// the dev cluster and the e2e harness, so the operator runs with exactly the chart's permissions.
// Not modelled: aggregated ClusterRoles, impersonation, SubjectAccessReview, escalation checks on RBAC writes.
import { z } from "zod";
import type { Decision, RequestAttributes } from "./request.js";

export const policyRule = z.object({
  apiGroups: z.array(z.string()).default([]),
  resources: z.array(z.string()).default([]),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).default([]),
  nonResourceURLs: z.array(z.string()).default([]),
});
export type PolicyRule = z.output<typeof policyRule>;

const meta = z.object({ name: z.string(), namespace: z.string().optional() });
const role = z.object({
  kind: z.enum(["Role", "ClusterRole"]),
  metadata: meta,
  rules: z.array(policyRule).default([]),
});
const subject = z.object({
  kind: z.enum(["User", "Group", "ServiceAccount"]),
  name: z.string(),
  namespace: z.string().optional(),
});
const binding = z.object({
  kind: z.enum(["RoleBinding", "ClusterRoleBinding"]),
  metadata: meta,
  roleRef: z.object({ kind: z.enum(["Role", "ClusterRole"]), name: z.string() }),
  subjects: z.array(subject).default([]),
});
type Role = z.output<typeof role>;
type Binding = z.output<typeof binding>;

export interface UserInfo {
  name: string;
  groups: string[];
}

/** The identity kube-apiserver gives a ServiceAccount token. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  };
}

/** Cluster admin, as kubeadm's admin.conf: the system:masters group bypasses RBAC. */
export const ADMIN_USER: UserInfo = {
  name: "kubernetes-admin",
  groups: ["system:masters", "system:authenticated"],
};

const matches = (list: string[], value: string) => list.includes("*") || list.includes(value);

/** Whether one rule grants the attributes (a subresource is named `resource/subresource`, as in RBAC). */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!matches(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest)
    return rule.nonResourceURLs.some(
      (u) => u === a.path || u === "*" || (u.endsWith("*") && a.path.startsWith(u.slice(0, -1))),
    );
  if (!matches(rule.apiGroups, a.group)) return false;
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk =
    rule.resources.includes("*") ||
    rule.resources.includes(full) ||
    (a.subresource !== "" && rule.resources.includes(`*/${a.subresource}`));
  if (!resourceOk) return false;
  // resourceNames restrict to named objects: a list, watch or create (no name) is never granted by them.
  return rule.resourceNames.length === 0 || (a.name !== "" && rule.resourceNames.includes(a.name));
}

function subjectIs(s: z.output<typeof subject>, user: UserInfo): boolean {
  if (s.kind === "User") return s.name === user.name;
  if (s.kind === "Group") return user.groups.includes(s.name);
  return user.name === `system:serviceaccount:${s.namespace ?? ""}:${s.name}`;
}

/** Every non-resource discovery path any authenticated user may GET (the system:discovery ClusterRole). */
const DISCOVERY: PolicyRule = {
  apiGroups: [],
  resources: [],
  resourceNames: [],
  verbs: ["get"],
  nonResourceURLs: [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/openapi",
    "/openapi/*",
    "/version",
    "/version/",
    "/healthz",
    "/livez",
    "/readyz",
  ],
};

export interface RefusedRequest {
  user: string;
  attributes: RequestAttributes;
  message: string;
}

const POLICY_KINDS = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

/** The Roles and bindings an API server holds now (the `objects` of an authorizer in front of that server). */
export function storedPolicy(api: { list(apiVersion: string, kind: string): unknown[] }): () => unknown[] {
  return () => POLICY_KINDS.flatMap((kind) => api.list("rbac.authorization.k8s.io/v1", kind));
}

/** Tokens → users, and RBAC over the Roles and bindings `objects()` returns now (the API server's store). */
export class RbacAuthorizer {
  /** Every request refused with 403, for tests and the dev cluster's log. */
  readonly denials: RefusedRequest[] = [];
  /** Every request allowed by a rule (not system:masters), kept only with `recordGrants` (tests: which rule is used). */
  readonly grants: { user: string; attributes: RequestAttributes }[] = [];

  constructor(
    private readonly tokens: ReadonlyMap<string, UserInfo>,
    private readonly objects: () => readonly unknown[],
    private readonly recordGrants = false,
  ) {}

  /**
   * The Roles and bindings among `objects()`, parsed; other kinds are skipped, and so is a malformed one (the
   * fake API server does not validate built-in kinds on write): it grants nothing, as no request may fail on it.
   */
  private policy(): { roles: Role[]; bindings: Binding[] } {
    const roles: Role[] = [];
    const bindings: Binding[] = [];
    for (const o of this.objects()) {
      const kind = (o as { kind?: unknown }).kind;
      if (kind === "Role" || kind === "ClusterRole") {
        const r = role.safeParse(o);
        if (r.success) roles.push(r.data);
      } else if (kind === "RoleBinding" || kind === "ClusterRoleBinding") {
        const b = binding.safeParse(o);
        if (b.success) bindings.push(b.data);
      }
    }
    return { roles, bindings };
  }

  /** Every rule that applies to `user` for a request in `namespace` ("": cluster-wide). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const { roles, bindings } = this.policy();
    const out: PolicyRule[] = [DISCOVERY];
    for (const b of bindings) {
      if (!b.subjects.some((s) => subjectIs(s, user))) continue;
      // A RoleBinding grants only in its own namespace, even when it refers to a ClusterRole.
      if (b.kind === "RoleBinding" && b.metadata.namespace !== namespace) continue;
      const r = roles.find(
        (x) =>
          x.kind === b.roleRef.kind &&
          x.metadata.name === b.roleRef.name &&
          (x.kind === "ClusterRole" || x.metadata.namespace === b.metadata.namespace),
      );
      if (r) out.push(...r.rules);
    }
    return out;
  }

  allowed(user: UserInfo, a: RequestAttributes): boolean {
    if (user.groups.includes("system:masters")) return true;
    return this.rulesFor(user, a.resourceRequest ? a.namespace : "").some((r) => ruleAllows(r, a));
  }

  /** The server's `Authorizer`: 401 without a known token, 403 if no rule grants the request. */
  authorize = (a: RequestAttributes): Decision => {
    const user = a.token === undefined ? undefined : this.tokens.get(a.token);
    if (!user) return { allowed: false, code: 401, message: "Unauthorized" };
    if (this.allowed(user, a)) {
      if (this.recordGrants && !user.groups.includes("system:masters"))
        this.grants.push({ user: user.name, attributes: a });
      return { allowed: true };
    }
    const message = forbiddenMessage(user.name, a);
    this.denials.push({ user: user.name, attributes: a, message });
    return { allowed: false, code: 403, message };
  };
}

/** kube-apiserver's wording, e.g. `pods "x" is forbidden: User "u" cannot patch resource "pods" in API group "" in the namespace "n"`. */
export function forbiddenMessage(user: string, a: RequestAttributes): string {
  if (!a.resourceRequest) return `forbidden: User "${user}" cannot ${a.verb} path "${a.path}"`;
  const what = a.name ? `${a.resource} "${a.name}"` : a.resource;
  const sub = a.subresource ? ` with subresource "${a.subresource}"` : "";
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : " at the cluster scope";
  return `${what} is forbidden: User "${user}" cannot ${a.verb} resource "${a.resource}"${sub} in API group "${a.group}"${where}`;
}
