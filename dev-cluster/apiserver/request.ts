// What a request is about, parsed once from its method, path, query and bearer token the way the real API server's
// RequestInfoFactory does: the verb (get, list, watch, create, update, patch, delete), group, version, resource,
// subresource, namespace and name, or a non-resource path (/api, /apis, /openapi/..., /version). Authorization
// (the `Authorizer` hook; the dev cluster plugs in rbac.ts) decides on these attributes; routing dispatches on them.
export interface RequestAttributes {
  /** The bearer token of the request's Authorization header, if any (who is asking, for an authorizer). */
  token: string | undefined;
  verb: string;
  path: string;
  resourceRequest: boolean;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export type Denial = { allowed: false; code?: 401 | 403; message: string };
export type Decision = { allowed: true } | Denial;

/** The Status code and reason a denial is answered with: 403 Forbidden unless the caller is unknown (401). */
export function denialStatus(d: Denial): { code: 401 | 403; reason: "Unauthorized" | "Forbidden" } {
  const code = d.code ?? 403;
  return { code, reason: code === 401 ? "Unauthorized" : "Forbidden" };
}

/** Decides each request before it is served (the place for RBAC): a denial is answered 403 (or 401). */
export type Authorizer = (attrs: RequestAttributes) => Decision;

const VERBS: Record<string, string> = {
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
  GET: "get",
  HEAD: "get",
};

export function requestAttributes(
  method: string,
  path: string,
  query: Record<string, string>,
  authorization: string | undefined,
): RequestAttributes {
  const token = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1];
  const base = {
    token,
    path,
    group: "",
    version: "",
    resource: "",
    subresource: "",
    namespace: "",
    name: "",
  };
  const nonResource = { ...base, verb: method.toLowerCase(), resourceRequest: false };
  const parts = path.split("/").filter(Boolean);
  let rest: string[];
  let group = "";
  let version: string;
  if (parts[0] === "api" && parts.length >= 3) {
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return nonResource;
  let namespace = "";
  // /namespaces/{ns}/{resource}... is namespaced; /namespaces/{name} (and its /status, /finalize) is the Namespace
  // itself, and, as on a real server, in its own namespace (a RoleBinding there may grant reading it).
  if (rest[0] === "namespaces" && rest.length >= 2) {
    namespace = rest[1]!;
    if (rest.length >= 3 && rest[2] !== "status" && rest[2] !== "finalize") rest = rest.slice(2);
  }
  const [resource = "", name = "", subresource = ""] = rest;
  let verb = VERBS[method] ?? method.toLowerCase();
  const watch = query.watch === "true" || query.watch === "1";
  // A watch of one object (`?watch=1` on its path) is a watch for RBAC too, not a get.
  if (method === "GET" && watch) verb = "watch";
  else if (name === "" && method === "GET") verb = "list";
  if (name === "" && method === "DELETE") verb = "deletecollection";
  return { ...base, verb, resourceRequest: true, group, version, resource, subresource, namespace, name };
}
