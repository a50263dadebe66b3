// The shape of the chart's RBAC: no wildcard, the same grants in either scope (a ClusterRole or a Role in the
// release namespace), the Lease only in the release namespace, everything bound to the operator's ServiceAccount.
// That the grants are exactly what the operator needs is test/dev-cluster/rbac-rules.test.ts: the operator runs
// under them (403s enforced), every rule is used, and removing any one makes it fail.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { PolicyRule } from "../../dev-cluster/apiserver/rbac.js";
import { ensureHelm, type KubeObject, NAMESPACE, render } from "./support/helm.js";

/** One permission: a verb on a resource of an API group. */
export function permissions(rules: Pick<PolicyRule, "apiGroups" | "resources" | "verbs">[]): string[] {
  const out = new Set<string>();
  for (const r of rules)
    for (const g of r.apiGroups)
      for (const res of r.resources) for (const v of r.verbs) out.add(`${g || "core"}/${res}:${v}`);
  return [...out].sort();
}

type RbacObject = KubeObject & { rules: PolicyRule[] };
const rolesOf = (objs: KubeObject[]) =>
  objs.filter((o) => o.kind === "ClusterRole" || o.kind === "Role") as RbacObject[];
const isLease = (p: string) => p.startsWith("coordination.k8s.io/leases:");

describe("operator RBAC", () => {
  before(ensureHelm);

  test("permissions() expands rules into single permissions", () => {
    assert.deepEqual(
      permissions([{ apiGroups: ["", "apps"], resources: ["pods"], verbs: ["get", "list"] }]),
      ["apps/pods:get", "apps/pods:list", "core/pods:get", "core/pods:list"],
    );
  });

  test("both scopes grant the same permissions", async () => {
    const granted = async (scope: string) =>
      permissions(rolesOf(await render({ set: [`operator.scope=${scope}`] })).flatMap((r) => r.rules));
    assert.deepEqual(await granted("namespace"), await granted("cluster"));
  });

  test("the rendered ClusterRole grants no list or watch on Secrets: only get (by name) and create", async () => {
    const objs = await render();
    const cluster = rolesOf(objs).filter((r) => r.kind === "ClusterRole");
    assert.equal(cluster.length, 1);
    const onSecrets = permissions(cluster.flatMap((r) => r.rules)).filter((p) =>
      p.startsWith("core/secrets:"),
    );
    assert.deepEqual(onSecrets, ["core/secrets:create", "core/secrets:get"]);
  });

  for (const scope of ["cluster", "namespace"] as const) {
    test(`scope=${scope}: no wildcard; the managed resources in one ${scope === "cluster" ? "ClusterRole" : "Role"}`, async () => {
      const objs = await render({ set: [`operator.scope=${scope}`, "operator.replicas=2"] });
      const roles = rolesOf(objs);
      for (const r of roles)
        assert.ok(!JSON.stringify(r.rules).includes("*"), `${r.kind} ${r.metadata.name}: wildcard`);
      // The managed resources: cluster-wide or in the release namespace, as the scope says.
      const main = roles.filter((r) => !permissions(r.rules).every(isLease));
      assert.deepEqual(
        main.map((r) => r.kind),
        [scope === "cluster" ? "ClusterRole" : "Role"],
      );
      // Leases: a Role in the release namespace, whatever the scope.
      for (const r of roles) {
        if (permissions(r.rules).some(isLease)) {
          assert.equal(r.kind, "Role");
          assert.equal(r.metadata.namespace, NAMESPACE);
          assert.ok(permissions(r.rules).every(isLease), `${r.metadata.name} mixes Leases with other grants`);
        }
      }
    });
  }

  test("every Role and ClusterRole is bound to the operator's ServiceAccount", async () => {
    const objs = await render();
    const sa = objs.find((o) => o.kind === "ServiceAccount")!;
    for (const role of rolesOf(objs)) {
      const binding = objs.find(
        (o) =>
          o.kind === `${role.kind}Binding` &&
          (o as KubeObject & { roleRef: { name: string } }).roleRef.name === role.metadata.name,
      ) as (KubeObject & { subjects: { kind: string; name: string; namespace: string }[] }) | undefined;
      assert.ok(binding, `${role.kind} ${role.metadata.name} is unbound`);
      assert.deepEqual(binding.subjects, [
        { kind: "ServiceAccount", name: sa.metadata.name, namespace: NAMESPACE },
      ]);
    }
  });
});
