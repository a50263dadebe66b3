// The dev cluster's RBAC authorizer decides like kube-apiserver's: request attributes from the URL, rules matched on
// verb, API group, resource/subresource and resourceNames, Roles only in their namespace, ClusterRoles through a
// ClusterRoleBinding everywhere or through a RoleBinding in one namespace, system:masters allowed everything.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ADMIN_USER,
  forbiddenMessage,
  type PolicyRule,
  RbacAuthorizer,
  ruleAllows,
  serviceAccountUser,
} from "../../../dev-cluster/apiserver/rbac.js";
import {
  denialStatus,
  requestAttributes as parse,
  type RequestAttributes,
} from "../../../dev-cluster/apiserver/request.js";

/** The API server's attributes for a request line (the one parser, request.ts), with an optional bearer token. */
function requestAttributes(method: string, url: string, token?: string): RequestAttributes {
  const u = new URL(url, "http://x");
  const query = Object.fromEntries(u.searchParams.entries());
  return parse(method, u.pathname, query, token === undefined ? undefined : `Bearer ${token}`);
}

describe("requestAttributes", () => {
  const cases: [string, string, Partial<RequestAttributes>][] = [
    ["GET", "/api/v1/namespaces/a/pods", { verb: "list", group: "", resource: "pods", namespace: "a" }],
    ["GET", "/api/v1/pods?watch=true", { verb: "watch", resource: "pods", namespace: "" }],
    ["GET", "/api/v1/namespaces/a/pods/p", { verb: "get", name: "p", subresource: "" }],
    ["PATCH", "/api/v1/namespaces/a/pods/p/status", { verb: "patch", name: "p", subresource: "status" }],
    [
      "POST",
      "/apis/apps/v1/namespaces/a/deployments",
      { verb: "create", group: "apps", resource: "deployments" },
    ],
    [
      "PUT",
      "/apis/rtgw.dev/v1alpha1/namespaces/a/realtimegateways/x/scale",
      { verb: "update", subresource: "scale" },
    ],
    ["DELETE", "/api/v1/namespaces/a/secrets", { verb: "deletecollection" }],
    ["DELETE", "/api/v1/namespaces/a/secrets/s", { verb: "delete", name: "s" }],
    ["GET", "/api/v1/namespaces/a", { resource: "namespaces", name: "a", namespace: "a" }],
    ["GET", "/apis/coordination.k8s.io/v1/namespaces/n/leases/l?watch=1", { verb: "watch", name: "l" }],
    ["GET", "/apis", { resourceRequest: false, verb: "get", path: "/apis" }],
    ["GET", "/api/v1", { resourceRequest: false, path: "/api/v1" }],
  ];
  for (const [method, url, want] of cases)
    test(`${method} ${url}`, () => {
      const got = requestAttributes(method, url) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, k);
    });
});

describe("ruleAllows", () => {
  const rule = (r: Partial<PolicyRule>): PolicyRule => ({
    apiGroups: [""],
    resources: ["pods"],
    verbs: ["get"],
    resourceNames: [],
    nonResourceURLs: [],
    ...r,
  });
  const a = (method: string, url: string) => requestAttributes(method, url);
  const cases: [string, PolicyRule, RequestAttributes, boolean][] = [
    ["verb, group and resource match", rule({}), a("GET", "/api/v1/namespaces/n/pods/p"), true],
    ["another verb", rule({}), a("PATCH", "/api/v1/namespaces/n/pods/p"), false],
    ["another group", rule({ apiGroups: ["apps"] }), a("GET", "/api/v1/namespaces/n/pods/p"), false],
    [
      "a subresource needs its own entry",
      rule({ verbs: ["patch"] }),
      a("PATCH", "/api/v1/namespaces/n/pods/p/status"),
      false,
    ],
    [
      "pods/status granted",
      rule({ resources: ["pods/status"], verbs: ["patch"] }),
      a("PATCH", "/api/v1/namespaces/n/pods/p/status"),
      true,
    ],
    [
      "pods/status does not grant pods",
      rule({ resources: ["pods/status"] }),
      a("GET", "/api/v1/namespaces/n/pods/p"),
      false,
    ],
    [
      "*/scale",
      rule({ apiGroups: ["*"], resources: ["*/scale"] }),
      a("GET", "/apis/apps/v1/namespaces/n/deployments/d/scale"),
      true,
    ],
    [
      "wildcards",
      rule({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }),
      a("DELETE", "/apis/apps/v1/namespaces/n/deployments/d"),
      true,
    ],
    [
      "resourceNames: the named one",
      rule({ resourceNames: ["p"] }),
      a("GET", "/api/v1/namespaces/n/pods/p"),
      true,
    ],
    [
      "resourceNames: another",
      rule({ resourceNames: ["p"] }),
      a("GET", "/api/v1/namespaces/n/pods/q"),
      false,
    ],
    [
      "resourceNames never grant list",
      rule({ resourceNames: ["p"], verbs: ["list"] }),
      a("GET", "/api/v1/namespaces/n/pods"),
      false,
    ],
    [
      "watch is its own verb",
      rule({ verbs: ["list"] }),
      a("GET", "/api/v1/namespaces/n/pods?watch=true"),
      false,
    ],
  ];
  for (const [name, r, attrs, want] of cases) test(name, () => assert.equal(ruleAllows(r, attrs), want));
});

describe("RbacAuthorizer", () => {
  const sa = serviceAccountUser("sys", "op");
  const dev = { name: "dev", groups: ["system:authenticated", "devs"] };
  const objects: unknown[] = [
    {
      kind: "ClusterRole",
      metadata: { name: "read-pods" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
    },
    {
      kind: "ClusterRoleBinding",
      metadata: { name: "sa-read-pods" },
      roleRef: { kind: "ClusterRole", name: "read-pods" },
      subjects: [{ kind: "ServiceAccount", name: "op", namespace: "sys" }],
    },
    {
      kind: "Role",
      metadata: { name: "leases", namespace: "sys" },
      rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get"] }],
    },
    {
      kind: "RoleBinding",
      metadata: { name: "leases", namespace: "sys" },
      roleRef: { kind: "Role", name: "leases" },
      subjects: [{ kind: "ServiceAccount", name: "op", namespace: "sys" }],
    },
    // A ClusterRole bound by a RoleBinding grants only in the binding's namespace.
    {
      kind: "RoleBinding",
      metadata: { name: "devs-read-pods", namespace: "team" },
      roleRef: { kind: "ClusterRole", name: "read-pods" },
      subjects: [{ kind: "Group", name: "devs" }],
    },
    { kind: "ConfigMap", metadata: { name: "ignored" } },
  ];
  const authz = new RbacAuthorizer(
    new Map([
      ["admin", ADMIN_USER],
      ["sa", sa],
      ["dev", dev],
    ]),
    () => objects,
  );
  /** The Status the API server answers a denial with, or undefined when the request is served. */
  const req = (token: string | undefined, method: string, url: string) => {
    const d = authz.authorize(requestAttributes(method, url, token));
    return d.allowed ? undefined : { ...denialStatus(d), message: d.message };
  };

  test("no or unknown token: 401", () => {
    assert.equal(req(undefined, "GET", "/api/v1/pods")?.code, 401);
    assert.equal(req("nope", "GET", "/api/v1/pods")?.code, 401);
  });
  test("system:masters may do anything", () => {
    assert.equal(req("admin", "DELETE", "/apis/apps/v1/namespaces/x/deployments/d"), undefined);
  });
  test("a ClusterRoleBinding grants in every namespace and cluster-wide", () => {
    assert.equal(req("sa", "GET", "/api/v1/namespaces/any/pods/p"), undefined);
    assert.equal(req("sa", "GET", "/api/v1/pods"), undefined);
    assert.equal(req("sa", "GET", "/api/v1/pods?watch=true")?.code, 403);
  });
  test("a Role grants only in its namespace", () => {
    assert.equal(req("sa", "GET", "/apis/coordination.k8s.io/v1/namespaces/sys/leases/l"), undefined);
    assert.equal(req("sa", "GET", "/apis/coordination.k8s.io/v1/namespaces/other/leases/l")?.code, 403);
  });
  test("a ClusterRole through a RoleBinding grants only in that namespace", () => {
    assert.equal(req("dev", "GET", "/api/v1/namespaces/team/pods"), undefined);
    assert.equal(req("dev", "GET", "/api/v1/namespaces/other/pods")?.code, 403);
    assert.equal(req("dev", "GET", "/api/v1/pods")?.code, 403);
  });
  test("discovery is open to every authenticated user", () => {
    assert.equal(req("dev", "GET", "/apis"), undefined);
    assert.equal(req("dev", "GET", "/apis/apps/v1"), undefined);
    assert.equal(req("dev", "POST", "/apis")?.code, 403);
  });
  test("a denial is recorded with kube-apiserver's wording", () => {
    const before = authz.denials.length;
    const out = req("sa", "PATCH", "/api/v1/namespaces/a/pods/p");
    assert.equal(out?.code, 403);
    assert.equal(out?.reason, "Forbidden");
    assert.equal(
      out?.message,
      'pods "p" is forbidden: User "system:serviceaccount:sys:op" cannot patch resource "pods" in API group "" in the namespace "a"',
    );
    assert.equal(authz.denials.length, before + 1);
    assert.equal(
      forbiddenMessage("u", requestAttributes("GET", "/apis/rtgw.dev/v1alpha1/realtimegateways?watch=true")),
      'realtimegateways is forbidden: User "u" cannot watch resource "realtimegateways" in API group "rtgw.dev" at the cluster scope',
    );
  });
});
