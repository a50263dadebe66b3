// The autoscaling controller's window on the API server: the handful of reads and writes it makes, over the real
// @kubernetes/client-node. An interface so the controller's tests can count writes without a server.

import * as k8s from "@kubernetes/client-node";
import {
  ApiException,
  type CoreV1Api,
  type CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../api/realtimegateway.js";
import { eventBody } from "../event-body.js";

/** A gateway pod, reduced to what autoscaling needs. */
export interface PodView {
  name: string;
  /** Phase Running: its container started (Pending is HPA's "unready" for a pods metric). */
  running: boolean;
  ready: boolean;
  deleting: boolean;
  podIP: string | undefined;
  annotations: Record<string, string>;
  createdAt: number;
}

export interface EventRecord {
  namespace: string;
  involved: { name: string; uid: string; resourceVersion?: string | undefined };
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface AutoscalingKube {
  /** Raw RealtimeGateway objects (parsed by the caller); all namespaces when namespace is undefined. */
  listGateways(namespace: string | undefined): Promise<unknown[]>;
  getGateway(namespace: string, name: string): Promise<unknown>;
  listPods(namespace: string, labelSelector: string): Promise<PodView[]>;
  /** Write spec.replicas through the scale subresource. */
  scale(namespace: string, name: string, replicas: number): Promise<void>;
  /** PUT the status subresource; the object carries metadata.resourceVersion, so a stale write fails with 409. */
  replaceStatus(namespace: string, name: string, object: object): Promise<void>;
  annotatePod(namespace: string, pod: string, annotations: Record<string, string>): Promise<void>;
  /** One key of a Secret (the admin key); undefined when the Secret or the key is missing. */
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  recordEvent(event: EventRecord): Promise<void>;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiException && err.code === 409;
}
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

function podView(p: V1Pod): PodView {
  const ready = p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const created = p.metadata?.creationTimestamp;
  return {
    name: p.metadata?.name ?? "",
    running: p.status?.phase === "Running",
    ready: ready && p.status?.phase === "Running",
    deleting: p.metadata?.deletionTimestamp !== undefined || p.status?.phase === "Failed",
    podIP: p.status?.podIP,
    annotations: p.metadata?.annotations ?? {},
    createdAt: created ? new Date(created).getTime() : 0,
  };
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function kubeFromConfig(kc: KubeConfig, component = "rtgw-autoscaler"): AutoscalingKube {
  const core: CoreV1Api = kc.makeApiClient(k8s.CoreV1Api);
  const custom: CustomObjectsApi = kc.makeApiClient(k8s.CustomObjectsApi);
  const instance = process.env.HOSTNAME ?? "operator";
  return {
    async listGateways(namespace) {
      const list = (
        namespace
          ? await custom.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace,
              plural: PLURAL,
            })
          : await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })
      ) as { items?: unknown[] };
      return list.items ?? [];
    },
    async getGateway(namespace, name) {
      return custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      });
    },
    async listPods(namespace, labelSelector) {
      const list = await core.listNamespacedPod({ namespace, labelSelector });
      return list.items.map(podView);
    },
    async scale(namespace, name, replicas) {
      await custom.patchNamespacedCustomObjectScale(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
          body: { spec: { replicas } },
          fieldManager: component,
        },
        mergePatch,
      );
    },
    async replaceStatus(namespace, name, object) {
      await custom.replaceNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
        body: object,
        fieldManager: component,
      });
    },
    async annotatePod(namespace, pod, annotations) {
      await core.patchNamespacedPod(
        { namespace, name: pod, body: { metadata: { annotations } }, fieldManager: component },
        mergePatch,
      );
    },
    async readSecretKey(namespace, name, key) {
      try {
        const secret = await core.readNamespacedSecret({ namespace, name });
        const value = secret.data?.[key];
        return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async recordEvent(e) {
      const now = new Date();
      const involved = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "RealtimeGateway",
        name: e.involved.name,
        namespace: e.namespace,
        uid: e.involved.uid,
        ...(e.involved.resourceVersion ? { resourceVersion: e.involved.resourceVersion } : {}),
      };
      await core.createNamespacedEvent({
        namespace: e.namespace,
        body: eventBody(
          { involved, type: e.type, reason: e.reason, message: e.message },
          { component, instance },
          now,
        ),
      });
    },
  };
}
