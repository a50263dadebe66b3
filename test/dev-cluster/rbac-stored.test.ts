// RBAC objects are API resources of the fake API server (rbac.authorization.k8s.io/v1 in discovery, stored,
// printed), and the RBAC authorizer reads them from the store at each request: an admin editing a Role, deleting
// a binding or adding one changes what a ServiceAccount may do at once, as on a real cluster.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ADMIN_USER,
  RbacAuthorizer,
  serviceAccountUser,
  storedPolicy,
} from "../../dev-cluster/apiserver/rbac.js";
import { FakeApiServer } from "../../dev-cluster/apiserver/server.js";

const RBAC = "/apis/rbac.authorization.k8s.io/v1";
let server: FakeApiServer;

before(async () => {
  server = await FakeApiServer.start();
  const authz = new RbacAuthorizer(
    new Map([
      ["admin", ADMIN_USER],
      ["op", serviceAccountUser("sys", "op")],
    ]),
    storedPolicy(server),
  );
  server.setAuthorizer(authz.authorize);
});
after(() => server.stop());

async function call(token: string, method: string, path: string, body?: unknown, type = "application/json") {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": type }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const PODS = "/api/v1/namespaces/team/pods";

describe("RBAC objects stored in the API server", () => {
  test("served in discovery with the real names", async () => {
    const list = await call("admin", "GET", RBAC);
    const names = (list.body.resources as { name: string; namespaced: boolean }[]).map((r) => [
      r.name,
      r.namespaced,
    ]);
    assert.deepEqual(names, [
      ["roles", true],
      ["clusterroles", false],
      ["rolebindings", true],
      ["clusterrolebindings", false],
    ]);
    const core = await call("admin", "GET", "/api/v1");
    const sa = (core.body.resources as { name: string; shortNames?: string[] }[]).find(
      (r) => r.name === "serviceaccounts",
    );
    assert.deepEqual(sa?.shortNames, ["sa"]);
  });

  test("what the operator may do follows the stored Roles and bindings", async () => {
    for (const ns of ["sys", "team"])
      await call("admin", "POST", "/api/v1/namespaces", { kind: "Namespace", metadata: { name: ns } });
    assert.equal((await call("op", "GET", PODS)).status, 403, "nothing granted yet");

    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "pods", namespace: "team" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
    };
    assert.equal((await call("admin", "POST", `${RBAC}/namespaces/team/roles`, role)).status, 201);
    assert.equal((await call("op", "GET", PODS)).status, 403, "a Role alone grants nobody");
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "op-pods", namespace: "team" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pods" },
      subjects: [{ kind: "ServiceAccount", name: "op", namespace: "sys" }],
    };
    assert.equal((await call("admin", "POST", `${RBAC}/namespaces/team/rolebindings`, binding)).status, 201);
    assert.equal((await call("op", "GET", PODS)).status, 200, "bound: granted");
    assert.equal((await call("op", "GET", "/api/v1/namespaces/sys/pods")).status, 403, "only in team");

    // The admin takes `list` away: the next list is refused, get still allowed.
    const edited = await call(
      "admin",
      "PATCH",
      `${RBAC}/namespaces/team/roles/pods`,
      { rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] },
      "application/merge-patch+json",
    );
    assert.equal(edited.status, 200);
    const refused = await call("op", "GET", PODS);
    assert.equal(refused.status, 403);
    assert.match(
      String(refused.body.message),
      /cannot list resource "pods" in API group "" in the namespace "team"/,
    );
    assert.equal((await call("op", "GET", `${PODS}/p`)).status, 404, "get: allowed (no such pod)");

    // Deleting the binding revokes the rest.
    assert.equal((await call("admin", "DELETE", `${RBAC}/namespaces/team/rolebindings/op-pods`)).status, 200);
    assert.equal((await call("op", "GET", `${PODS}/p`)).status, 403);

    // A ClusterRoleBinding to a ClusterRole grants everywhere.
    await call("admin", "POST", `${RBAC}/clusterroles`, {
      kind: "ClusterRole",
      metadata: { name: "read-pods" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }],
    });
    await call("admin", "POST", `${RBAC}/clusterrolebindings`, {
      kind: "ClusterRoleBinding",
      metadata: { name: "op-read-pods" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "read-pods" },
      subjects: [{ kind: "ServiceAccount", name: "op", namespace: "sys" }],
    });
    assert.equal((await call("op", "GET", "/api/v1/pods")).status, 200);
    assert.equal((await call("op", "GET", "/api/v1/namespaces/sys/pods")).status, 200);

    // A malformed Role (no verbs: a real server refuses it on write; this one stores it) grants nothing and
    // breaks nobody else's requests.
    const bad = {
      kind: "Role",
      metadata: { name: "bad", namespace: "team" },
      rules: [{ apiGroups: [""], resources: ["secrets"] }],
    };
    assert.equal((await call("admin", "POST", `${RBAC}/namespaces/team/roles`, bad)).status, 201);
    await call("admin", "POST", `${RBAC}/namespaces/team/rolebindings`, {
      kind: "RoleBinding",
      metadata: { name: "bad", namespace: "team" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "bad" },
      subjects: [{ kind: "ServiceAccount", name: "op", namespace: "sys" }],
    });
    assert.equal((await call("op", "GET", "/api/v1/namespaces/team/secrets")).status, 403);
    assert.equal((await call("op", "GET", "/api/v1/pods")).status, 200);
  });

  test("kubectl's columns: a binding's role and subjects, a Role's creation time", async () => {
    const accept = "application/json;as=Table;g=meta.k8s.io;v=v1";
    const res = await fetch(`${server.url}${RBAC}/clusterrolebindings/op-read-pods`, {
      headers: { authorization: "Bearer admin", accept },
    });
    const table = (await res.json()) as {
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"],
    );
    const cells = table.rows[0]?.cells ?? [];
    assert.deepEqual([cells[0], cells[1], cells[5]], ["op-read-pods", "ClusterRole/read-pods", "sys/op"]);
    const roles = await fetch(`${server.url}${RBAC}/clusterroles`, {
      headers: { authorization: "Bearer admin", accept },
    });
    const rt = (await roles.json()) as {
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    assert.deepEqual(
      rt.columnDefinitions.map((c) => c.name),
      ["Name", "Created At"],
    );
    assert.match(String(rt.rows[0]?.cells[1]), /^\d{4}-\d\d-\d\dT/);
  });
});
