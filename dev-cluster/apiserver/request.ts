// What a request is about, parsed once from its method, path and query the way the real API server's
// RequestInfoFactory does: the verb (get, list, watch, create, update, patch, delete), group, version, resource,
// subresource, namespace and name, or a non-resource path (/api, /apis, /openapi/..., /version). Authorization
// decides on these attributes; routing dispatches on them.
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

export type Decision = { allowed: true } | { allowed: false; code?: 401 | 403; message: string };

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
  // /namespaces/{ns}/{resource}...; /namespaces, /namespaces/{name} and its /status are the Namespace itself.
  if (rest[0] === "namespaces" && rest.length >= 3 && rest[2] !== "status" && rest[2] !== "finalize") {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const [resource = "", name = "", subresource = ""] = rest;
  let verb = VERBS[method] ?? method.toLowerCase();
  const watch = query.watch === "true" || query.watch === "1";
  if (name === "" && method === "GET") verb = watch ? "watch" : "list";
  if (name === "" && method === "DELETE") verb = "deletecollection";
  return { ...base, verb, resourceRequest: true, group, version, resource, subresource, namespace, name };
}
