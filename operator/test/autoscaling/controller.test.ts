// The autoscaling controller's shell against an in-memory API (the real one is exercised by the e2e run):
// what it writes, what it leaves alone, and how it survives conflicts and failing pods.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiException } from "@kubernetes/client-node";
import { API_VERSION, KIND } from "../../src/api/realtimegateway.js";
import {
  AutoscalingController,
  type AutoscalingControllerOptions,
  autoscalerSpec,
} from "../../src/autoscaling/controller.js";
import { POD_DELETION_COST } from "../../src/autoscaling/deletion-cost.js";
import type { AutoscalingKube, EventRecord, PodView } from "../../src/autoscaling/kube.js";
import { parseMetric } from "../../src/autoscaling/pod-metrics.js";
import { METRICS_PORT } from "../../src/render/configmap.js";

const silent = { info() {}, warn() {}, error() {}, debug() {} };

interface FakeApi extends AutoscalingKube {
  gateway: Record<string, unknown> & { spec: Record<string, unknown>; status: Record<string, unknown> };
  rv: number;
  pods: PodView[];
  scales: number[];
  statusWrites: Record<string, unknown>[];
  annotations: { pod: string; value: string }[];
  events: EventRecord[];
  secrets: Map<string, Record<string, string>>;
  conflictsLeft: number;
  /** Runs just before a conflicting write is rejected (another writer's change). */
  onConflict?: () => void;
}

function fakeApi(spec: Record<string, unknown>, pods: PodView[]): FakeApi {
  const api: FakeApi = {
    gateway: {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: "chat", namespace: "prod", uid: "u-1", generation: 3, resourceVersion: "1" },
      spec: { image: "rtgw:1", redis: { url: "redis://r:6379" }, ...spec },
      status: {
        readyReplicas: pods.length,
        replicas: pods.length,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "AllReady",
            message: "",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      },
    },
    rv: 1,
    pods,
    scales: [],
    statusWrites: [],
    annotations: [],
    events: [],
    secrets: new Map(),
    conflictsLeft: 0,
    async listGateways() {
      return [structuredClone(api.gateway)];
    },
    async getGateway() {
      return structuredClone(api.gateway);
    },
    async listPods() {
      return structuredClone(api.pods);
    },
    async scale(_ns, _name, replicas) {
      api.scales.push(replicas);
      api.gateway.spec.replicas = replicas;
      api.rv++;
      (api.gateway.metadata as { resourceVersion: string }).resourceVersion = String(api.rv);
    },
    async replaceStatus(_ns, _name, object) {
      const o = object as { metadata: { resourceVersion: string }; status: Record<string, unknown> };
      if (api.conflictsLeft > 0) {
        api.conflictsLeft--;
        api.onConflict?.();
        throw new ApiException(409, "Conflict", {}, {});
      }
      if (o.metadata.resourceVersion !== String(api.rv)) throw new ApiException(409, "Conflict", {}, {});
      api.statusWrites.push(o.status);
      api.gateway.status = o.status;
      api.rv++;
      (api.gateway.metadata as { resourceVersion: string }).resourceVersion = String(api.rv);
    },
    async annotatePod(_ns, pod, annotations) {
      const value = annotations[POD_DELETION_COST] as string;
      api.annotations.push({ pod, value });
      const p = api.pods.find((x) => x.name === pod);
      if (p) p.annotations = { ...p.annotations, ...annotations };
    },
    async readSecretKey(_ns, name, key) {
      return api.secrets.get(name)?.[key];
    },
    async recordEvent(e) {
      api.events.push(e);
    },
  } as FakeApi;
  return api;
}

function pod(name: string, ip: string, over: Partial<PodView> = {}): PodView {
  return {
    name,
    running: true,
    ready: true,
    deleting: false,
    podIP: ip,
    annotations: {},
    createdAt: 0,
    ...over,
  };
}

/** fetch that serves /metrics from a table by pod IP and records /admin/shed calls (internal port only, as the gateway). */
function fakeFetch(
  connections: Map<string, number | "down">,
  sheds: { ip: string; auth: string; body: unknown }[],
) {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const ip = url.hostname;
    if (url.pathname === "/metrics") {
      const n = connections.get(ip);
      if (n === undefined || n === "down") throw new TypeError("fetch failed");
      return new Response(
        `# HELP rtgw_connections open\n# TYPE rtgw_connections gauge\nrtgw_connections ${n}\nrtgw_connections_opened_total 99\n`,
      );
    }
    if (url.pathname === "/admin/shed" && url.port === String(METRICS_PORT)) {
      const headers = new Headers(init?.headers);
      sheds.push({ ip, auth: headers.get("authorization") ?? "", body: JSON.parse(String(init?.body)) });
      return Response.json({ shed: 1 });
    }
    return new Response("not found", { status: 404 });
  }) as typeof fetch;
}

function controller(
  api: FakeApi,
  f: typeof fetch,
  clock: { t: number },
  over: Partial<AutoscalingControllerOptions> = {},
) {
  return new AutoscalingController({
    kube: api,
    logger: silent,
    fetch: f,
    now: () => clock.t,
    rebalance: {
      spreadFraction: 0.2,
      minSpread: 50,
      sustainSeconds: 10,
      roundSeconds: 5,
      maxShedFraction: 0.1,
      maxPodsPerRound: 2,
    },
    ...over,
  });
}

const AUTOSCALING = {
  enabled: true,
  minReplicas: 1,
  maxReplicas: 10,
  targetConnectionsPerPod: 10_000,
  scaleDownStabilizationSeconds: 0,
};

describe("autoscaling controller", () => {
  it("scales up through the scale subresource, with status, an Event and deletion costs", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 15_000],
      ["10.0.0.2", 16_000],
    ]);
    const clock = { t: Date.parse("2026-11-23T12:00:00Z") };
    await controller(api, fakeFetch(conns, []), clock).tick();

    assert.deepEqual(api.scales, [4]); // ceil(31000 / 10000)
    assert.equal(api.events.length, 1);
    assert.equal(api.events[0]?.reason, "ScaledUp");
    assert.match(api.events[0]?.message ?? "", /31000 connections on 2 reporting pod\(s\).*replicas 2 -> 4/);
    const status = api.gateway.status;
    assert.equal(status.desiredReplicas, 4);
    assert.equal(status.connections, 31_000);
    assert.equal(status.lastScaleTime, "2026-11-23T12:00:00Z");
    assert.equal(status.readyReplicas, 2, "the reconciler's fields survive");
    const conditions = status.conditions as { type: string; status: string; reason: string }[];
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ["Ready", "True", "AllReady"],
        ["Scaling", "True", "ScalingUp"],
      ],
    );
    assert.deepEqual(
      api.annotations.sort((x, y) => x.pod.localeCompare(y.pod)),
      [
        { pod: "a", value: "15000" },
        { pod: "b", value: "16000" },
      ],
    );
  });

  it("retries a status write that conflicts, keeping the other writer's change", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    api.conflictsLeft = 1;
    api.onConflict = () => {
      api.gateway.status = { ...api.gateway.status, readyReplicas: 7, observedGeneration: 3 };
      api.rv++;
      (api.gateway.metadata as { resourceVersion: string }).resourceVersion = String(api.rv);
    };
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 10_000],
      ["10.0.0.2", 10_000],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    assert.equal(api.statusWrites.length, 1);
    assert.equal(api.gateway.status.readyReplicas, 7);
    assert.equal(api.gateway.status.observedGeneration, 3);
    assert.equal(api.gateway.status.connections, 20_000);
  });

  it("writes nothing to the gateway when autoscaling is disabled (kubectl scale drives it)", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: { ...AUTOSCALING, enabled: false } }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 50_000],
      ["10.0.0.2", 50_000],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    assert.deepEqual(api.scales, []);
    assert.deepEqual(api.statusWrites, []);
    assert.deepEqual(api.annotations, []);
    assert.deepEqual(api.events, []);
  });

  it("treats an unreachable pod as a missing metric (no scale-down on its silence)", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 2_000],
      ["10.0.0.2", 2_000],
      ["10.0.0.3", "down"],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    // (2000 + 2000 + 10000 assumed) / 3 → ceil(1.4) = 2, not ceil(0.4) = 1
    assert.deepEqual(api.scales, [2]);
    assert.equal(
      api.annotations.some((a) => a.pod === "c"),
      false,
      "no cost written without a metric",
    );
  });

  it("counts a running pod that fails readiness (full) with its metric; a Pending pod is left out", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: { ...AUTOSCALING, scaleDownStabilizationSeconds: 0 } }, [
      pod("a", "10.0.0.1", { ready: false }), // full: unready, still holding its clients
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3", { running: false, ready: false }), // Pending: no metric is scraped
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 19_000],
      ["10.0.0.2", 9_000],
      ["10.0.0.3", 5_000],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    // 28000 over a and b → 3; with a dropped it would have been ceil(9000 / 10000) = 1
    assert.deepEqual(api.scales, []);
    assert.equal(api.gateway.status.connections, 28_000);
  });

  it("rewrites a deletion cost only when it moved meaningfully, and status only when it changed", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 10_000],
      ["10.0.0.2", 10_000],
    ]);
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, []), clock);
    await c.tick();
    assert.equal(api.annotations.length, 2);
    const writes = api.statusWrites.length;
    conns.set("10.0.0.1", 10_050); // < 1 % of target
    clock.t += 5_000;
    await c.tick();
    assert.equal(api.annotations.length, 2);
    assert.equal(api.statusWrites.length, writes);
    conns.set("10.0.0.1", 8_000);
    clock.t += 5_000;
    await c.tick();
    assert.deepEqual(api.annotations.at(-1), { pod: "a", value: "8000" });
    assert.equal(api.statusWrites.length, writes + 1);
  });

  it("sheds from the fullest pods, with the admin key, once the skew has lasted", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 14_000],
      ["10.0.0.2", 13_000],
      ["10.0.0.3", 1_000],
    ]);
    const sheds: { ip: string; auth: string; body: unknown }[] = [];
    const clock = { t: Date.now() };
    const key = "k-from-the-reconciler";
    api.secrets.set("chat-admin", { "api-key": key }); // the reconciler's Secret: the autoscaler only reads it
    const c = controller(api, fakeFetch(conns, sheds), clock);
    await c.tick();
    assert.equal(sheds.length, 0, "not before the skew lasted sustainSeconds");
    clock.t += 10_000;
    await c.tick();
    assert.deepEqual(
      sheds.sort((x, y) => x.ip.localeCompare(y.ip)),
      [
        { ip: "10.0.0.1", auth: `Bearer ${key}`, body: { count: 1_400, seconds: 5 } },
        { ip: "10.0.0.2", auth: `Bearer ${key}`, body: { count: 1_300, seconds: 5 } },
      ],
    );
    assert.equal(api.events.at(-1)?.reason, "Rebalancing");
    assert.deepEqual(api.scales, []);
  });

  it("sheds nothing until the admin-key Secret exists, then with the key it holds now", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 14_000],
      ["10.0.0.2", 1_000],
    ]);
    const sheds: { ip: string; auth: string; body: unknown }[] = [];
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, sheds), clock);
    for (let i = 0; i < 3; i++) {
      await c.tick();
      clock.t += 10_000;
    }
    assert.equal(sheds.length, 0, "no key, no shed");
    assert.equal(api.secrets.size, 0, "the autoscaler never creates the Secret");
    api.secrets.set("chat-admin", { "api-key": "first" });
    await c.tick();
    assert.deepEqual(
      sheds.map((x) => x.auth),
      ["Bearer first"],
    );
    // Deleted and recreated by the reconciler with a new key: the next shed uses the new one.
    api.secrets.set("chat-admin", { "api-key": "second" });
    for (let i = 0; i < 6 && sheds.length < 2; i++) {
      clock.t += 10_000;
      await c.tick();
    }
    assert.equal(sheds.at(-1)?.auth, "Bearer second");
  });

  it("does not shed while pods are leaving", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3", { deleting: true }),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 14_000],
      ["10.0.0.2", 3_000],
      ["10.0.0.3", 5_000],
    ]);
    const sheds: { ip: string; auth: string; body: unknown }[] = [];
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, sheds), clock);
    for (let i = 0; i < 5; i++) {
      await c.tick();
      clock.t += 10_000;
    }
    assert.equal(sheds.length, 0);
  });
});

describe("Prometheus text parsing", () => {
  const cases: [string, string, number | undefined][] = [
    ["plain", "rtgw_connections 12\n", 12],
    ["with timestamp", "rtgw_connections 12 1700000000000\n", 12],
    ["labels summed", 'rtgw_connections{a="x"} 2\nrtgw_connections{a="y}\\""} 3\n', 5],
    ["longer names are other metrics", "rtgw_connections_opened_total 99\nrtgw_connections 4\n", 4],
    ["float", "rtgw_connections 3e3\n", 3000],
    ["absent", "rtgw_other 1\n", undefined],
    ["NaN", "rtgw_connections NaN\n", undefined],
    ["comments and blank lines", "# TYPE rtgw_connections gauge\n\n  rtgw_connections   7  \n", 7],
    ["broken label set", 'rtgw_connections{a="x 2\n', undefined],
  ];
  for (const [name, body, expected] of cases) {
    it(name, () => assert.equal(parseMetric(body, "rtgw_connections"), expected));
  }
});

describe("CR autoscaling block → autoscaler spec", () => {
  const base = {
    enabled: true,
    minReplicas: 2,
    maxReplicas: 50,
    targetConnectionsPerPod: 10_000,
    tolerance: 0.1,
    scaleUpStabilizationSeconds: 0,
    scaleDownStabilizationSeconds: 300,
  };
  it("maps pods and percent to HPA policies", () => {
    const s = autoscalerSpec({
      ...base,
      scaleUp: { pods: 4, percent: 100, periodSeconds: 15 },
      scaleDown: { pods: 1, periodSeconds: 60 },
    });
    assert.deepEqual(s.scaleUp.policies, [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ]);
    assert.deepEqual(s.scaleDown.policies, [{ type: "Pods", value: 1, periodSeconds: 60 }]);
    assert.equal(s.scaleDown.stabilizationWindowSeconds, 300);
  });
  it("a rule with only a period gets HPA's default policies (never a frozen direction)", () => {
    const s = autoscalerSpec({ ...base, scaleUp: { periodSeconds: 30 }, scaleDown: { periodSeconds: 20 } });
    assert.deepEqual(s.scaleUp.policies, [
      { type: "Percent", value: 100, periodSeconds: 30 },
      { type: "Pods", value: 4, periodSeconds: 30 },
    ]);
    assert.deepEqual(s.scaleDown.policies, [{ type: "Percent", value: 100, periodSeconds: 20 }]);
  });
});
