// The chart, rendered by real helm: lint, every object valid against the upstream Kubernetes schemas, the
// operator hardened and wired as the values say, and bad values refused.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parseRealtimeGateway } from "../../operator/src/api/realtimegateway.js";
import { renderDeployment } from "../../operator/src/render/deployment.js";
import { selectorLabels } from "../../operator/src/render/labels.js";
import {
  CHART,
  ensureHelm,
  FULL_VALUES,
  helm,
  type KubeObject,
  NAMESPACE,
  only,
  RELEASE,
  render,
  renderFails,
} from "./support/helm.js";
import { customResourceProblems, validateUpstream } from "./support/kube-schemas.js";

const MONITORING = "monitoring.coreos.com/v1";
const CLUSTER_SCOPED = new Set(["CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"]);
const STANDARD_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/version",
  "app.kubernetes.io/managed-by",
  "helm.sh/chart",
];

type Container = {
  name: string;
  args?: string[];
  securityContext?: Record<string, unknown>;
  resources?: { requests?: object; limits?: object };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
};
type PodSpec = { securityContext?: Record<string, unknown>; containers: Container[] };
type Workload = KubeObject & {
  spec: {
    replicas?: number;
    strategy?: { type: string };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

const kinds = (objs: KubeObject[]) => objs.map((o) => o.kind).sort();
const operatorDeployment = (objs: KubeObject[]) => only(objs, "Deployment") as Workload;
const operatorContainer = (objs: KubeObject[]) => operatorDeployment(objs).spec.template.spec.containers[0]!;

function assertAllValid(objs: KubeObject[]): void {
  const crd = only(objs, "CustomResourceDefinition");
  for (const obj of objs) {
    if (obj.apiVersion.startsWith("rtgw.dev/"))
      assert.deepEqual(customResourceProblems(crd, obj), [], obj.metadata.name);
    else validateUpstream(obj);
  }
}

function assertConventions(objs: KubeObject[]): void {
  for (const obj of objs) {
    const where = `${obj.kind} ${obj.metadata.name}`;
    if (obj.kind === "CustomResourceDefinition") continue; // crds/ is `rtgw crd` verbatim, never templated
    for (const label of STANDARD_LABELS) assert.ok(obj.metadata.labels?.[label], `${where} lacks ${label}`);
    assert.equal(obj.metadata.labels?.["app.kubernetes.io/managed-by"], "Helm", where);
    if (CLUSTER_SCOPED.has(obj.kind)) assert.equal(obj.metadata.namespace, undefined, where);
    else assert.equal(obj.metadata.namespace, NAMESPACE, where);
  }
}

before(ensureHelm);

describe("helm lint --strict", () => {
  test("passes with the default values", async () => {
    await helm(["lint", "--strict", CHART]);
  });
  test("passes with every option set", async () => {
    await helm(["lint", "--strict", CHART, "--values", FULL_VALUES]);
  });
});

describe("default values", () => {
  let objs: KubeObject[];
  before(async () => {
    objs = await render();
  });

  test("render the CRD, the operator with its RBAC and metrics Service, and the quick-start Redis", () => {
    assert.deepEqual(kinds(objs), [
      "ClusterRole",
      "ClusterRoleBinding",
      "CustomResourceDefinition",
      "Deployment",
      "NetworkPolicy",
      "NetworkPolicy",
      "Role",
      "RoleBinding",
      "Secret",
      "Service",
      "Service",
      "ServiceAccount",
      "StatefulSet",
    ]);
  });

  test("every object is valid against the Kubernetes schemas and carries the Helm labels", () => {
    assertAllValid(objs);
    assertConventions(objs);
  });

  test("the operator container is hardened and probed on /healthz and /readyz", () => {
    const pod = operatorDeployment(objs).spec.template.spec;
    const c = operatorContainer(objs);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext?.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(c.securityContext?.runAsNonRoot, true);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities, { drop: ["ALL"] });
    assert.deepEqual(c.securityContext?.seccompProfile, { type: "RuntimeDefault" });
    assert.ok(c.resources?.requests && c.resources.limits, "requests and limits");
    assert.equal(c.livenessProbe?.httpGet?.path, "/healthz");
    assert.equal(c.readinessProbe?.httpGet?.path, "/readyz");
  });

  test("one replica: no leader election, and a Recreate rollout so two never overlap", () => {
    const d = operatorDeployment(objs);
    assert.equal(d.spec.replicas, 1);
    assert.equal(d.spec.strategy?.type, "Recreate");
    assert.ok(!operatorContainer(objs).args?.includes("--leader-elect"));
  });

  test("the quick-start Redis is the official image, non-root, behind a Service", () => {
    const sts = only(objs, "StatefulSet") as Workload;
    const c = sts.spec.template.spec.containers[0] as Container & { image: string };
    assert.match(c.image, /^redis:/);
    assert.equal(sts.spec.template.spec.securityContext?.runAsNonRoot, true);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    only(objs, "Service", `${RELEASE}-realtime-gateway-redis`);
  });

  test("no chart pod can be taken for a gateway pod of a RealtimeGateway named like the release", () => {
    const parsed = parseRealtimeGateway({
      apiVersion: "rtgw.dev/v1alpha1",
      kind: "RealtimeGateway",
      metadata: { name: RELEASE, namespace: NAMESPACE, uid: "u" },
      spec: { image: "x", redis: { url: "redis://r:6379" } },
    });
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.message);
    const selector = Object.entries(selectorLabels(parsed.gateway));
    for (const w of objs.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet") as Workload[]) {
      const labels = w.spec.template.metadata.labels;
      assert.ok(
        !selector.every(([k, v]) => labels[k] === v),
        `${w.kind} ${w.metadata.name} matches ${selector}`,
      );
    }
  });
});

describe("every option set (values-full.yaml, prometheus-operator API present)", () => {
  let objs: KubeObject[];
  before(async () => {
    objs = await render({ values: [FULL_VALUES], apiVersions: [MONITORING] });
  });

  test("render the ServiceMonitor, the gateway PodMonitor, the operator PDB, the example and its JWT Secret too", () => {
    for (const kind of ["ServiceMonitor", "PodMonitor", "PodDisruptionBudget", "RealtimeGateway"])
      only(objs, kind);
    assert.equal(objs.filter((o) => o.kind === "Secret").length, 2, "the JWT Secret and the Redis password");
  });

  test("the PodMonitor selects the gateway pods the operator renders, on their metrics port", () => {
    const parsed = parseRealtimeGateway({
      apiVersion: "rtgw.dev/v1alpha1",
      kind: "RealtimeGateway",
      metadata: { name: "chat", namespace: "apps", uid: "u" },
      spec: { image: "x", redis: { url: "redis://r:6379" } },
    });
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.message);
    const pod = renderDeployment({ gateway: parsed.gateway }).spec.template;
    const monitor = only(objs, "PodMonitor") as KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] };
    };
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(pod.metadata.labels[k], v, k);
    const ports = pod.spec.containers.flatMap((c) => c.ports.map((p) => p.name));
    assert.ok(ports.includes(monitor.spec.podMetricsEndpoints[0]!.port), ports.join());
  });

  test("every object is valid (the example against the CRD's own schema and CEL rules)", () => {
    assertAllValid(objs);
    assertConventions(objs);
  });

  test("every pod meets the `restricted` Pod Security Standard", () => {
    for (const w of objs.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet") as Workload[]) {
      const pod = w.spec.template.spec as PodSpec & Record<string, unknown>;
      const where = `${w.kind} ${w.metadata.name}`;
      for (const host of ["hostNetwork", "hostPID", "hostIPC"]) assert.ok(!pod[host], `${where}: ${host}`);
      for (const c of pod.containers) {
        const sc = { ...pod.securityContext, ...c.securityContext } as Record<string, unknown> & {
          capabilities?: { add?: string[]; drop?: string[] };
          seccompProfile?: { type: string };
        };
        assert.equal(sc.runAsNonRoot, true, `${where}/${c.name}: runAsNonRoot`);
        assert.notEqual(sc.runAsUser, 0, `${where}/${c.name}: runAsUser 0`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}/${c.name}: allowPrivilegeEscalation`);
        assert.ok(!sc.privileged, `${where}/${c.name}: privileged`);
        assert.ok(sc.capabilities?.drop?.includes("ALL"), `${where}/${c.name}: capabilities.drop ALL`);
        assert.deepEqual(sc.capabilities?.add ?? [], [], `${where}/${c.name}: capabilities.add`);
        assert.match(
          sc.seccompProfile?.type ?? "",
          /^(RuntimeDefault|Localhost)$/,
          `${where}/${c.name}: seccomp`,
        );
      }
    }
  });

  test("several replicas switch leader election on, with a Lease in the release namespace", () => {
    const args = operatorContainer(objs).args ?? [];
    assert.ok(args.includes("--leader-elect"), args.join(" "));
    assert.ok(args.includes(`--lease-namespace=${NAMESPACE}`), args.join(" "));
    assert.equal(operatorDeployment(objs).spec.strategy, undefined);
  });

  test("the example uses the quick-start Redis (with its password, from its Secret) and the generated Secret", () => {
    const gw = only(objs, "RealtimeGateway") as KubeObject & {
      spec: {
        image: string;
        replicas?: number;
        redis: { secretRef: { name: string; key: string } };
        auth: { jwtSecretRef: { name: string; key: string } };
      };
    };
    const redisSecret = only(objs, "Secret", gw.spec.redis.secretRef.name) as KubeObject & {
      data: Record<string, string>;
    };
    const password = Buffer.from(redisSecret.data.password ?? "", "base64").toString();
    assert.ok(password.length >= 32, "a generated password");
    assert.equal(
      Buffer.from(redisSecret.data[gw.spec.redis.secretRef.key] ?? "", "base64").toString(),
      `redis://:${password}@rtgw-redis.${NAMESPACE}.svc:6379`,
    );
    const redis = only(objs, "StatefulSet") as Workload;
    assert.ok(JSON.stringify(redis.spec.template.spec.containers[0]).includes("--requirepass"));
    const policy = only(objs, "NetworkPolicy", "rtgw-redis") as KubeObject & { spec: { ingress: object[] } };
    assert.deepEqual(policy.spec.ingress, [
      {
        from: [
          {
            namespaceSelector: {},
            podSelector: {
              matchLabels: {
                "app.kubernetes.io/name": "realtime-gateway",
                "app.kubernetes.io/component": "gateway",
              },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 6379 }],
      },
    ]);
    const secret = only(objs, "Secret", gw.spec.auth.jwtSecretRef.name) as KubeObject & {
      data: Record<string, string>;
    };
    assert.equal(gw.spec.image, "registry.example.com/rtgw/gateway:1.2.3");
    assert.equal(gw.spec.auth.jwtSecretRef.name, secret.metadata.name);
    assert.ok(Buffer.from(secret.data[gw.spec.auth.jwtSecretRef.key] ?? "", "base64").length >= 32);
    // With autoscaling on, Helm must not own spec.replicas (the autoscaler writes it).
    assert.equal(gw.spec.replicas, undefined);
  });
});

describe("values that change the shape", () => {
  test("serviceMonitor.enabled on a cluster without prometheus-operator renders no monitor", async () => {
    const objs = await render({ set: ["serviceMonitor.enabled=true"] });
    assert.ok(!kinds(objs).includes("ServiceMonitor") && !kinds(objs).includes("PodMonitor"));
  });

  test("scope=namespace: a Role in the release namespace, no cluster-wide permission, --namespace", async () => {
    const objs = await render({ set: ["operator.scope=namespace"] });
    assert.deepEqual(
      objs.filter((o) => CLUSTER_SCOPED.has(o.kind)).map((o) => o.kind),
      ["CustomResourceDefinition"],
    );
    const roles = objs.filter((o) => o.kind === "Role") as (KubeObject & { rules: Rule[] })[];
    assert.ok(roles.some((r) => r.rules.some((rule) => rule.resources.includes("realtimegateways"))));
    assert.ok(operatorContainer(objs).args?.includes(`--namespace=${NAMESPACE}`));
    assertAllValid(objs);
  });

  test("an external Redis from a Secret: no quick-start Redis, the example refers to the Secret", async () => {
    const objs = await render({
      set: ["redis.enabled=false", "redis.existingSecret.name=redis-prod", "example.enabled=true"],
    });
    assert.ok(!kinds(objs).includes("StatefulSet"));
    const gw = only(objs, "RealtimeGateway") as KubeObject & { spec: { redis: object } };
    assert.deepEqual(gw.spec.redis, { secretRef: { name: "redis-prod", key: "url" } });
    assertAllValid(objs);
  });

  test("an external Redis URL and autoscaling off: the example carries the URL and its replicas", async () => {
    const objs = await render({
      set: [
        "redis.enabled=false",
        "redis.url=rediss://redis.prod:6380",
        "example.enabled=true",
        "example.autoscaling.enabled=false",
        "example.replicas=4",
      ],
    });
    const gw = only(objs, "RealtimeGateway") as KubeObject & { spec: { redis: object; replicas: number } };
    assert.deepEqual(gw.spec.redis, { url: "rediss://redis.prod:6380" });
    assert.equal(gw.spec.replicas, 4);
    assertAllValid(objs);
  });
});

describe("NOTES.txt", () => {
  const notes = async (set: string[]) => {
    const { stdout } = await helm([
      "install",
      RELEASE,
      CHART,
      "--dry-run=client",
      "--namespace",
      NAMESPACE,
      ...set.flatMap((s) => ["--set", s]),
    ]);
    return stdout.slice(stdout.indexOf("NOTES:"));
  };

  test("without the example: how to write a RealtimeGateway against the quick-start Redis", async () => {
    const text = await notes([]);
    assert.match(text, /kubectl get rtgw -A/);
    assert.match(text, /kind: RealtimeGateway/);
    assert.match(text, new RegExp(`redis://${RELEASE}-realtime-gateway-redis\\.${NAMESPACE}\\.svc:6379`));
  });

  test("with the example: how to watch it, reach it and load it", async () => {
    const text = await notes(["example.enabled=true", "operator.replicas=2"]);
    assert.match(text, /leader election on/);
    assert.match(text, /get rtgw example -w/);
    assert.match(text, /port-forward service\/example 8080:80/);
    assert.match(text, new RegExp(`get secret ${RELEASE}-realtime-gateway-example-jwt`));
  });
});

describe("bad values are refused", () => {
  const cases: { name: string; set: string[]; error: RegExp }[] = [
    {
      name: "operator.replicas as a string",
      set: ["operator.replicas=two"],
      error: /replicas.*want integer/,
    },
    { name: "operator.replicas 0", set: ["operator.replicas=0"], error: /replicas/ },
    { name: "an unknown operator key", set: ["operator.replica=2"], error: /additional propert.*replica/ },
    {
      name: "an unknown top-level key",
      set: ["operatorr.replicas=2"],
      error: /additional propert.*operatorr/,
    },
    { name: "an unknown scope", set: ["operator.scope=galaxy"], error: /scope/ },
    {
      name: "an image pull policy that does not exist",
      set: ["operator.image.pullPolicy=Sometimes"],
      error: /pullPolicy/,
    },
    {
      name: "a Redis URL that is not redis://",
      set: ["redis.enabled=false", "redis.url=http://r"],
      error: /url/,
    },
    { name: "an example name that is no DNS label", set: ["example.name=Chat_1"], error: /name/ },
    {
      name: "two Redis sources at once",
      set: ["redis.url=redis://r:6379"],
      error: /set only one of redis.enabled.*redis.url/,
    },
    {
      name: "the example without any Redis",
      set: ["redis.enabled=false", "example.enabled=true"],
      error: /example.enabled needs a Redis/,
    },
    {
      name: "an existing ServiceAccount without its name",
      set: ["operator.serviceAccount.create=false"],
      error: /operator.serviceAccount.name is required/,
    },
  ];
  before(ensureHelm);
  for (const c of cases) {
    test(c.name, async () => {
      assert.match(await renderFails({ set: c.set }), c.error);
    });
  }
});

describe("the validators above catch what they must", () => {
  let objs: KubeObject[];
  before(async () => {
    objs = await render({ set: ["example.enabled=true"] });
  });

  const mutants: { name: string; kind: string; mutate: (o: Workload) => void; error: RegExp }[] = [
    {
      name: "a misspelt container field",
      kind: "Deployment",
      mutate: (d) => Object.assign(d.spec.template.spec.containers[0]!, { readinesProbe: {} }),
      error: /unknown fields .*readinesProbe/,
    },
    {
      name: "a field one level off",
      kind: "StatefulSet",
      mutate: (s) => Object.assign(s.spec.template, { containers: [] }),
      error: /unknown fields .*spec\.template\.containers/,
    },
    {
      name: "a wrong type",
      kind: "Deployment",
      mutate: (d) => Object.assign(d.spec, { replicas: "1" }),
      error: /replicas must be integer/,
    },
  ];
  for (const m of mutants) {
    test(`upstream: ${m.name}`, () => {
      const obj = structuredClone(only(objs, m.kind)) as Workload;
      m.mutate(obj);
      assert.throws(() => validateUpstream(obj), m.error);
    });
  }

  test("custom resource: an unknown field, a bound, and a CEL rule", () => {
    const crd = only(objs, "CustomResourceDefinition");
    const gw = only(objs, "RealtimeGateway") as KubeObject & { spec: Record<string, unknown> };
    const withSpec = (spec: Record<string, unknown>) => ({ ...gw, spec: { ...gw.spec, ...spec } });
    assert.deepEqual(customResourceProblems(crd, gw), []);
    assert.match(customResourceProblems(crd, withSpec({ replica: 3 })).join(), /\.spec\.replica/);
    assert.match(customResourceProblems(crd, withSpec({ drain: { seconds: -1 } })).join(), /drain\/seconds/);
    const inverted = withSpec({ autoscaling: { enabled: true, minReplicas: 9, maxReplicas: 3 } });
    assert.match(
      customResourceProblems(crd, inverted).join(),
      /minReplicas must be <= autoscaling.maxReplicas/,
    );
  });
});
