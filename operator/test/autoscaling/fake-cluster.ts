// An in-memory API for the autoscaling controller's tests: list + watch over one RealtimeGateway and its pods (what
// the informers cache), the scale and status subresources with resourceVersion checks and injectable failures,
// pod annotations, Secrets and Events; plus a fetch serving each pod's /metrics and recording /admin/shed.

import { ApiException } from "@kubernetes/client-node";
import { API_VERSION, KIND } from "../../src/api/realtimegateway.js";
import {
  AutoscalingController,
  type AutoscalingControllerOptions,
  type AutoscalingKube,
} from "../../src/controllers/autoscaling/controller.js";
import { POD_DELETION_COST } from "../../src/controllers/autoscaling/deletion-cost.js";
import type { PodView } from "../../src/controllers/autoscaling/pods.js";
import { METRICS_PORT } from "../../src/render/configmap.js";
import type { EventInput } from "../../src/runtime/events.js";
import type { KubeObject, WatchEventType } from "../../src/runtime/kube.js";

export const silent = { info() {}, warn() {}, error() {}, debug() {} };

export type Watcher = { kind: string; onEvent: (type: WatchEventType, obj: KubeObject) => void };

export interface FakeApi extends AutoscalingKube {
  gateway: Record<string, unknown> & { spec: Record<string, unknown>; status: Record<string, unknown> };
  rv: number;
  pods: PodView[];
  scales: number[];
  /** Scale writes that fail (HTTP 500) before one succeeds. */
  scaleFailuresLeft: number;
  statusWrites: Record<string, unknown>[];
  annotations: { pod: string; value: string }[];
  events: EventInput[];
  secrets: Map<string, Record<string, string>>;
  conflictsLeft: number;
  /** Runs just before a conflicting write is rejected (another writer's change). */
  onConflict?: () => void;
  watchers: Watcher[];
}

/** What the pod watch reports for `p`, to every pod watcher (the informer's cache follows it). */
export function podEvent(api: FakeApi, type: WatchEventType, p: PodView): void {
  for (const w of api.watchers) if (w.kind === "Pod") w.onEvent(type, rawPod(p));
}

/** A PodView as the API server would serve the pod (what the pod informer caches). */
function rawPod(p: PodView): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: p.name,
      namespace: "prod",
      labels: {
        "app.kubernetes.io/name": "realtime-gateway",
        "app.kubernetes.io/instance": "chat",
        ...(p.templateHash ? { "pod-template-hash": p.templateHash } : {}),
      },
      annotations: { ...p.annotations },
      creationTimestamp: new Date(p.createdAt).toISOString(),
      ...(p.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    status: {
      phase: p.running ? "Running" : "Pending",
      podIP: p.podIP,
      conditions: [{ type: "Ready", status: p.ready ? "True" : "False" }],
    },
  };
}

export function fakeApi(spec: Record<string, unknown>, pods: PodView[]): FakeApi {
  const emit = (kind: string, obj: KubeObject) => {
    for (const w of api.watchers) if (w.kind === kind) w.onEvent("MODIFIED", structuredClone(obj));
  };
  const bump = () => {
    api.rv++;
    (api.gateway.metadata as { resourceVersion: string }).resourceVersion = String(api.rv);
    emit("RealtimeGateway", api.gateway as unknown as KubeObject);
  };
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
    scaleFailuresLeft: 0,
    statusWrites: [],
    annotations: [],
    events: [],
    secrets: new Map(),
    conflictsLeft: 0,
    watchers: [],
    async list(res) {
      const items =
        res.kind === "Pod" ? api.pods.map(rawPod) : [structuredClone(api.gateway) as unknown as KubeObject];
      return { items, resourceVersion: String(api.rv) };
    },
    async watch(res, _ns, _params, onEvent, done) {
      const w = { kind: res.kind, onEvent };
      api.watchers.push(w);
      return () => {
        api.watchers = api.watchers.filter((x) => x !== w);
        done(undefined); // as client-node's abort ends the watch
      };
    },
    async getGateway() {
      return structuredClone(api.gateway) as unknown as KubeObject;
    },
    async scaleGateway(_ns, _name, replicas) {
      if (api.scaleFailuresLeft > 0) {
        api.scaleFailuresLeft--;
        throw new ApiException(500, "Internal Server Error", {}, {});
      }
      api.scales.push(replicas);
      api.gateway.spec.replicas = replicas;
      bump();
      return String(api.rv);
    },
    async replaceGatewayStatus(object) {
      const o = object as unknown as {
        metadata: { resourceVersion: string };
        status: Record<string, unknown>;
      };
      if (api.conflictsLeft > 0) {
        api.conflictsLeft--;
        api.onConflict?.();
        throw new ApiException(409, "Conflict", {}, {});
      }
      if (o.metadata.resourceVersion !== String(api.rv)) throw new ApiException(409, "Conflict", {}, {});
      api.statusWrites.push(o.status);
      api.gateway.status = o.status;
      bump();
      return structuredClone(api.gateway) as unknown as KubeObject;
    },
    async annotatePod(_ns, pod, annotations) {
      const value = annotations[POD_DELETION_COST] as string;
      api.annotations.push({ pod, value });
      const p = api.pods.find((x) => x.name === pod);
      if (!p) throw new ApiException(404, "Not Found", {}, {});
      p.annotations = { ...p.annotations, ...annotations };
      return rawPod(p);
    },
    async readSecretKey(_ns, name, key) {
      return api.secrets.get(name)?.[key];
    },
    async createEvent(e) {
      api.events.push(e);
    },
  };
  return api;
}

export function pod(name: string, ip: string, over: Partial<PodView> = {}): PodView {
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

/** fetch that serves /metrics from a table by pod IP and records /admin/shed calls. */
export function fakeFetch(
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

export function controller(
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

export const AUTOSCALING = {
  enabled: true,
  minReplicas: 1,
  maxReplicas: 10,
  targetConnectionsPerPod: 10_000,
  scaleDownStabilizationSeconds: 0,
};
