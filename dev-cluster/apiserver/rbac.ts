// Authentication (bearer tokens) and RBAC authorization for the API server, as kube-apiserver's RBAC authorizer
// decides: a request's attributes (verb, API group, resource/subresource, namespace, name) are allowed when a rule
// of a Role bound in that namespace, or of a ClusterRole bound cluster-wide (or in that namespace), grants them.
// Used by the dev cluster and the e2e harness so the operator runs with exactly the chart's permissions.
// Not modelled: aggregated ClusterRoles, impersonation, SubjectAccessReview, escalation checks on RBAC writes.
import type { IncomingMessage } from "node:http";
import { z } from "zod";

/** What kube-apiserver derives from a request before authorizing it. */
export type RequestAttributes =
  | { kind: "nonResource"; verb: string; path: string }
  | {
      kind: "resource";
      verb: string;
      apiGroup: string;
      resource: string;
      subresource: string;
      namespace: string | undefined;
      name: string | undefined;
    };

/** Request attributes from the method and URL, as the API server's request-info resolver names them. */
export function requestAttributes(method: string, url: string): RequestAttributes {
  const u = new URL(url, "http://x");
  const parts = u.pathname.split("/").filter(Boolean);
  const watch = u.searchParams.get("watch") === "true" || u.searchParams.get("watch") === "1";
  const lower = method.toLowerCase();
  let rest: string[];
  let apiGroup: string;
  if (parts[0] === "api" && parts.length >= 3) {
    apiGroup = "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    apiGroup = parts[1] ?? "";
    rest = parts.slice(3);
  } else {
    const verb = { get: "get", head: "get", post: "post", put: "put", patch: "patch", delete: "delete" }[
      lower
    ];
    return { kind: "nonResource", verb: verb ?? lower, path: u.pathname };
  }
  let namespace: string | undefined;
  // /namespaces/{ns} alone is the Namespace object itself; /namespaces/{ns}/{resource}/... is namespaced.
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  } else if (rest[0] === "namespaces" && rest.length === 2) {
    namespace = rest[1];
  }
  const [resource = "", name, subresource = ""] = rest;
  const collectionVerbs: Record<string, string> = {
    get: watch ? "watch" : "list",
    post: "create",
    delete: "deletecollection",
  };
  const objectVerbs: Record<string, string> = {
    get: watch ? "watch" : "get",
    head: "get",
    put: "update",
    patch: "patch",
    delete: "delete",
  };
  const verb = (name === undefined ? collectionVerbs[lower] : objectVerbs[lower]) ?? lower;
  return { kind: "resource", verb, apiGroup, resource, subresource, namespace, name };
}

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
  if (a.kind === "nonResource")
    return rule.nonResourceURLs.some(
      (u) => u === a.path || u === "*" || (u.endsWith("*") && a.path.startsWith(u.slice(0, -1))),
    );
  if (!matches(rule.apiGroups, a.apiGroup)) return false;
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk =
    rule.resources.includes("*") ||
    rule.resources.includes(full) ||
    (a.subresource !== "" && rule.resources.includes(`*/${a.subresource}`));
  if (!resourceOk) return false;
  // resourceNames restrict to named objects: a list, watch or create (no name) is never granted by them.
  return rule.resourceNames.length === 0 || (a.name !== undefined && rule.resourceNames.includes(a.name));
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

export interface Denial {
  user: string;
  attributes: RequestAttributes;
  message: string;
}

/** Tokens → users, and the RBAC objects that authorize them. */
export class RbacAuthorizer {
  private readonly roles: Role[] = [];
  private readonly bindings: Binding[] = [];
  /** Every request refused with 403, for tests and the dev cluster's log. */
  readonly denials: Denial[] = [];
  /** Every request allowed by a rule (not system:masters), kept only with `recordGrants` (tests: which rule is used). */
  readonly grants: { user: string; attributes: RequestAttributes }[] = [];

  constructor(
    private readonly tokens: ReadonlyMap<string, UserInfo>,
    private readonly recordGrants = false,
  ) {}

  /** Loads Roles, ClusterRoles and their bindings from objects (e.g. `helm template` output); others are skipped. */
  addObjects(objects: readonly unknown[]): void {
    for (const o of objects) {
      const kind = (o as { kind?: unknown }).kind;
      if (kind === "Role" || kind === "ClusterRole") this.roles.push(role.parse(o));
      else if (kind === "RoleBinding" || kind === "ClusterRoleBinding") this.bindings.push(binding.parse(o));
    }
  }

  /** The decision for one user: every rule that applies to a request in `namespace` (undefined: cluster-wide). */
  rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const out: PolicyRule[] = [DISCOVERY];
    for (const b of this.bindings) {
      if (!b.subjects.some((s) => subjectIs(s, user))) continue;
      // A RoleBinding grants only in its own namespace, even when it refers to a ClusterRole.
      if (b.kind === "RoleBinding" && b.metadata.namespace !== namespace) continue;
      const r = this.roles.find(
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
    const ns = a.kind === "resource" ? a.namespace : undefined;
    return this.rulesFor(user, ns).some((r) => ruleAllows(r, a));
  }

  /** The server hook: undefined to go on, else the Status to answer (401 without a known token, 403 if denied). */
  authorize = (req: IncomingMessage): { code: number; reason: string; message: string } | undefined => {
    const header = req.headers.authorization ?? "";
    const user = header.startsWith("Bearer ") ? this.tokens.get(header.slice(7).trim()) : undefined;
    if (!user) return { code: 401, reason: "Unauthorized", message: "Unauthorized" };
    const a = requestAttributes(req.method ?? "GET", req.url ?? "/");
    if (this.allowed(user, a)) {
      if (this.recordGrants && !user.groups.includes("system:masters"))
        this.grants.push({ user: user.name, attributes: a });
      return undefined;
    }
    const message = forbiddenMessage(user.name, a);
    this.denials.push({ user: user.name, attributes: a, message });
    return { code: 403, reason: "Forbidden", message };
  };
}

/** kube-apiserver's wording, e.g. `pods "x" is forbidden: User "u" cannot patch resource "pods" in API group "" in the namespace "n"`. */
export function forbiddenMessage(user: string, a: RequestAttributes): string {
  if (a.kind === "nonResource") return `forbidden: User "${user}" cannot ${a.verb} path "${a.path}"`;
  const what = a.name ? `${a.resource} "${a.name}"` : a.resource;
  const sub = a.subresource ? ` with subresource "${a.subresource}"` : "";
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : " at the cluster scope";
  return `${what} is forbidden: User "${user}" cannot ${a.verb} resource "${a.resource}"${sub} in API group "${a.apiGroup}"${where}`;
}
