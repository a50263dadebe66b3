// The chart's RBAC is what the operator needs, enforced: the operator runs in the dev cluster (cluster.ts) as its
// ServiceAccount, with the Roles and ClusterRoles `helm template` renders (cluster scope, leader election on). With
// every rule it reconciles a RealtimeGateway to Ready (pods scraped and annotated, scaled, Events, a Lease) without
// one 403, and every rule is used; with any ONE rule removed, the API server refuses it something (403).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { type PolicyRule, policyRule, ruleAllows } from "../../dev-cluster/apiserver/rbac.js";
import type { ChartObject } from "../../dev-cluster/chart.js";
import { type Cluster, REDIS_SECRET, startCluster } from "../../dev-cluster/cluster.js";
import { collection } from "../../dev-cluster/kube-rest.js";
import { sleep } from "../../test-support/wait.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NS = "default";
const work = mkdtempSync(join(tmpdir(), "rtgw-rbac-rules-"));
after(() => rmSync(work, { recursive: true, force: true }));

type Role = ChartObject & { rules: PolicyRule[] };
const isRole = (o: ChartObject): o is Role => o.kind === "Role" || o.kind === "ClusterRole";
const describeRule = (role: Role, r: PolicyRule) =>
  `${role.kind} ${role.metadata.name}: ${r.apiGroups.map((g) => g || "core").join(",")} ${r.resources.join(",")} [${r.verbs.join(",")}]`;

let run = 0;
async function withCluster<T>(
  rbac: ((objects: ChartObject[]) => ChartObject[]) | undefined,
  body: (c: Cluster) => Promise<T>,
): Promise<T> {
  const cluster = await startCluster({
    rootDir: ROOT,
    workDir: join(work, String(run++)),
    releaseNamespace: "rtgw-system",
    // Two replicas: the chart turns leader election on (the Lease rules are then needed).
    chartSet: ["operator.replicas=2"],
    operatorEnv: { RTGW_AUTOSCALER_INTERVAL_SECONDS: "1", RTGW_AUTOSCALER_SCRAPE_TIMEOUT_SECONDS: "1" },
    recordGrants: true,
    ...(rbac ? { rbac } : {}),
  });
  try {
    // One replica below minReplicas: the autoscaler must scale it (the scale subresource).
    await cluster.admin.create(collection("rtgw.dev/v1alpha1", "realtimegateways", NS), {
      apiVersion: "rtgw.dev/v1alpha1",
      kind: "RealtimeGateway",
      metadata: { name: "rbac", namespace: NS },
      spec: {
        image: "rtgw/gateway:dev",
        replicas: 1,
        autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 3 },
        drain: { seconds: 2 },
        redis: { secretRef: { name: REDIS_SECRET, key: "url" } },
      },
    });
    // A second gateway with its NetworkPolicy switched off and no pods: the leftover NetworkPolicy is obsolete.
    await cluster.admin.create(collection("rtgw.dev/v1alpha1", "realtimegateways", NS), {
      apiVersion: "rtgw.dev/v1alpha1",
      kind: "RealtimeGateway",
      metadata: { name: "rbac-off", namespace: NS },
      spec: {
        image: "rtgw/gateway:dev",
        replicas: 0,
        autoscaling: { enabled: false },
        networkPolicy: { enabled: false },
        redis: { secretRef: { name: REDIS_SECRET, key: "url" } },
      },
    });
    for (const l of LEFTOVERS) await leftover(cluster, l);
    return await body(cluster);
  } finally {
    await cluster.stop();
  }
}

/**
 * Objects an earlier spec rendered, left behind (the spec dropped them while the operator was away): the operator
 * deletes them, the only deletes it ever makes (render/index.ts optionalObjects), one RBAC rule each. The
 * config-file ConfigMap (the simulated pods mount no volumes, so a spec with namespaces would not run here), an
 * Ingress (no spec.ingress) and the NetworkPolicy of the gateway that switched it off.
 */
const LEFTOVERS = [
  { gateway: "rbac", apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", name: "rbac-config-file" },
  { gateway: "rbac", apiVersion: "networking.k8s.io/v1", kind: "Ingress", plural: "ingresses", name: "rbac" },
  {
    gateway: "rbac-off",
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    name: "rbac-off",
  },
];
const BODIES: Record<string, object> = {
  ConfigMap: { data: { "config.yaml": "namespaces:\n  chat: {}\n" } },
  Ingress: { spec: { defaultBackend: { service: { name: "rbac", port: { name: "http" } } } } },
  NetworkPolicy: { spec: { podSelector: {}, policyTypes: ["Ingress"] } },
};

async function leftover(c: Cluster, l: (typeof LEFTOVERS)[number]): Promise<void> {
  const gw = await c.admin.get(`${collection("rtgw.dev/v1alpha1", "realtimegateways", NS)}/${l.gateway}`);
  await c.admin.create(collection(l.apiVersion, l.plural, NS), {
    apiVersion: l.apiVersion,
    kind: l.kind,
    metadata: {
      name: l.name,
      namespace: NS,
      labels: { "app.kubernetes.io/managed-by": "rtgw-operator", "app.kubernetes.io/instance": l.gateway },
      ownerReferences: [
        {
          apiVersion: "rtgw.dev/v1alpha1",
          kind: "RealtimeGateway",
          name: l.gateway,
          uid: gw?.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    ...BODIES[l.kind],
  });
}

/**
 * Ready with two ready pods, each annotated with its deletion cost, the leftovers deleted: everything the operator
 * does has happened.
 */
async function reconciled(c: Cluster): Promise<boolean> {
  const gw = await c.admin.get(`${collection("rtgw.dev/v1alpha1", "realtimegateways", NS)}/rbac`);
  const status = (gw?.status ?? {}) as {
    readyReplicas?: number;
    conditions?: { type: string; status: string }[];
  };
  const ready = status.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false;
  const pods = await c.admin.list(collection("v1", "pods", NS));
  const costed = pods.filter(
    (p) => p.metadata.annotations?.["controller.kubernetes.io/pod-deletion-cost"] !== undefined,
  );
  for (const l of LEFTOVERS)
    if (await c.admin.get(`${collection(l.apiVersion, l.plural, NS)}/${l.name}`)) return false;
  return ready && status.readyReplicas === 2 && costed.length === 2;
}

describe("the chart's operator RBAC, enforced", () => {
  let rendered: Role[] = [];

  test("with every rule: the operator reconciles to Ready without a 403, and uses every rule", async () => {
    await withCluster(
      (objects) => {
        rendered = objects
          .filter(isRole)
          .map((r) => ({ ...r, rules: r.rules.map((x) => policyRule.parse(x)) }));
        return objects;
      },
      async (c) => {
        const deadline = Date.now() + 90_000;
        while (!(await reconciled(c))) {
          assert.deepEqual(
            c.rbac.denials.map((d) => d.message),
            [],
          );
          assert.ok(Date.now() < deadline, `not reconciled in 90 s; see ${c.operatorLog}`);
          await sleep(250);
        }
        assert.deepEqual(
          c.rbac.denials.map((d) => d.message),
          [],
        );
        const mine = c.rbac.grants.filter((g) => g.user === c.operatorUser);
        for (const role of rendered)
          for (const rule of role.rules)
            assert.ok(
              mine.some((g) => ruleAllows(rule, g.attributes)),
              `${describeRule(role, rule)}: granted but never used`,
            );
      },
    );
    assert.ok(rendered.length >= 2 && rendered.flatMap((r) => r.rules).length >= 5);
  });

  test("without any one rule: the operator gets a 403", async (t) => {
    const rules = rendered.flatMap((role, i) => role.rules.map((rule, j) => ({ role, i, j, rule })));
    assert.ok(rules.length > 0, "the first test rendered the chart");
    for (const { role, i, j, rule } of rules) {
      await t.test(`without ${describeRule(role, rule)}`, async () => {
        const drop = (objects: ChartObject[]) => {
          const copy = structuredClone(objects);
          const target = copy.filter(isRole)[i] as Role;
          target.rules.splice(j, 1);
          return copy;
        };
        await withCluster(drop, async (c) => {
          const deadline = Date.now() + 60_000;
          while (!c.rbac.denials.some((d) => d.user === c.operatorUser)) {
            assert.ok(Date.now() < deadline, `no 403 in 60 s without ${describeRule(role, rule)}`);
            await sleep(200);
          }
          const denied = c.rbac.denials.map((d) => d.attributes);
          assert.ok(
            denied.some((a) => ruleAllows(rule, a)),
            `the 403s are not for the removed rule: ${c.rbac.denials.map((d) => d.message).join("; ")}`,
          );
        });
      });
    }
  });
});
