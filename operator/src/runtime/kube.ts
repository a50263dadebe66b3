// The operator's one window on the API server, over the real @kubernetes/client-node: list + watch for informers,
// server-side apply, status and scale writes, pod annotations, Secrets, Events and Leases. An interface, so the
// pure parts never see client-node and controller tests can count writes without a server. Every controller takes
// the slice of it that it uses.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
  Watch,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../api/realtimegateway.js";
import { FIELD_MANAGER } from "../render/labels.js";
import { type EventInput, eventBody } from "./events.js";
import type { ResourceRef } from "./resources.js";

export type { ResourceRef };

/** A Kubernetes object as plain JSON (no client-node Date objects). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [field: string]: unknown;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface ListWatchClient {
  list(
    res: ResourceRef,
    namespace: string | undefined,
    labelSelector: string | undefined,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /** Streams events until the server ends the watch (done(undefined)) or it fails (done(err)). Returns a stop(). */
  watch(
    res: ResourceRef,
    namespace: string | undefined,
    params: { resourceVersion: string; labelSelector?: string | undefined },
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    done: (err: unknown) => void,
  ): Promise<() => void>;
}

export interface LeaseClient {
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export interface Kube extends ListWatchClient {
  /** Server-side apply under this client's field manager, forcing ownership of the fields it renders. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /**
   * Deletes an owned object the spec no longer renders, only if it still has `uid` (a precondition: an object
   * recreated under the name since is not ours to delete); false when it was gone or is another object now.
   */
  deleteObject(res: ResourceRef, namespace: string, name: string, uid: string): Promise<boolean>;
  getGateway(namespace: string, name: string): Promise<KubeObject>;
  /** PUT the status subresource; metadata.resourceVersion makes a stale write fail with 409. */
  replaceGatewayStatus(obj: KubeObject): Promise<KubeObject>;
  /** Write spec.replicas through the scale subresource; returns the RealtimeGateway's new resourceVersion. */
  scaleGateway(namespace: string, name: string, replicas: number): Promise<string | undefined>;
  /** Merge-patch a pod's annotations; returns the pod as written. */
  annotatePod(namespace: string, pod: string, annotations: Record<string, string>): Promise<KubeObject>;
  /** Creates a Secret (never updates one); undefined when it already exists. Returns metadata and key names only. */
  createSecret(secret: KubeObject): Promise<KubeObject | undefined>;
  /** One key of a Secret (the admin key); undefined when the Secret or the key is missing. */
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  /** GETs one Secret by name (no list, no watch); undefined when missing. Returns metadata and key names only. */
  getSecretKeys(
    namespace: string,
    name: string,
  ): Promise<{ metadata: KubeObject["metadata"]; keys: string[] } | undefined>;
  createEvent(e: EventInput): Promise<void>;
  leases: LeaseClient;
}

/** The HTTP status of a failed API call, whichever way the client reported it. */
export function apiStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.statusCode === "number") return e.statusCode;
  if (typeof e?.code === "number") return e.code;
  return undefined;
}

/** 409: someone else wrote the object since we read it (re-read and retry). */
export function isConflict(err: unknown): boolean {
  return apiStatusCode(err) === 409;
}

export function isNotFound(err: unknown): boolean {
  return apiStatusCode(err) === 404;
}

/** A readable one-line error: the API server's own message for HTTP errors. */
export function errText(err: unknown): string {
  if (err === undefined || err === null) return String(err);
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e.code === "number" && e.body !== undefined) {
    try {
      const body =
        typeof e.body === "string"
          ? (JSON.parse(e.body) as { message?: string })
          : (e.body as { message?: string });
      return `HTTP ${e.code}: ${body.message ?? JSON.stringify(body)}`;
    } catch {
      return `HTTP ${e.code}: ${String(e.body)}`;
    }
  }
  return e.message ?? JSON.stringify(err);
}

/** client-node deserializes into model classes with Date fields; the operator works on plain JSON. */
export function plain<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

/**
 * client-node serializes known kinds through its generated models, where a NetworkPolicy ingress rule's `from` is
 * the property `_from` (a reserved word): a plain `from` would be dropped without a word, and the policy would let
 * everyone in. Rename on the way in and back on the way out.
 */
export function renameIngressFrom(obj: KubeObject, from: string, to: string): KubeObject {
  if (obj.kind !== "NetworkPolicy") return obj;
  const spec = obj.spec as { ingress?: Record<string, unknown>[] } | undefined;
  if (!spec?.ingress) return obj;
  const ingress = spec.ingress.map((rule) => {
    if (!(from in rule)) return rule;
    const { [from]: peers, ...rest } = rule;
    return { ...rest, [to]: peers };
  });
  return { ...obj, spec: { ...spec, ingress } };
}

export function collectionPath(res: ResourceRef, namespace: string | undefined): string {
  const base = res.apiVersion.includes("/") ? `/apis/${res.apiVersion}` : `/api/${res.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${res.plural}` : `${base}/${res.plural}`;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/**
 * The client for one field manager (`component`, also the Events' reporting component): the operator's
 * reconciler writes as rtgw-operator, the autoscaler as rtgw-autoscaler. `instance` names this replica in Events.
 */
export function kubeFromConfig(
  kc: KubeConfig,
  component = FIELD_MANAGER,
  instance = process.env.HOSTNAME ?? "rtgw-operator",
): Kube {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const watcher = new Watch(kc);
  const gateway = { group: GROUP, version: VERSION, plural: PLURAL };
  return {
    async list(res, namespace, labelSelector) {
      const l = await objects.list(
        res.apiVersion,
        res.kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
      const items = (plain(l.items) as KubeObject[]).map((o) => renameIngressFrom(o, "_from", "from"));
      return { items, resourceVersion: l.metadata?.resourceVersion ?? "" };
    },
    async watch(res, namespace, params, onEvent, done) {
      const controller = await watcher.watch(
        collectionPath(res, namespace),
        {
          resourceVersion: params.resourceVersion,
          labelSelector: params.labelSelector,
          allowWatchBookmarks: true,
          timeoutSeconds: 300,
        },
        (type: string, obj: KubeObject) => onEvent(type as WatchEventType, obj),
        done,
      );
      return () => controller.abort();
    },
    async apply(obj) {
      const out = await objects.patch(
        renameIngressFrom(obj, "from", "_from") as never,
        undefined,
        undefined,
        component,
        true,
        PatchStrategy.ServerSideApply,
      );
      return renameIngressFrom(plain(out) as unknown as KubeObject, "_from", "from");
    },
    async deleteObject(res, namespace, name, uid) {
      try {
        await objects.delete(
          { apiVersion: res.apiVersion, kind: res.kind, metadata: { namespace, name } },
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          { preconditions: { uid } },
        );
        return true;
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return false;
        throw err;
      }
    },
    async getGateway(namespace, name) {
      return (await custom.getNamespacedCustomObject({ ...gateway, namespace, name })) as KubeObject;
    },
    async replaceGatewayStatus(obj) {
      const { namespace, name } = obj.metadata;
      return (await custom.replaceNamespacedCustomObjectStatus({
        ...gateway,
        namespace: namespace ?? "",
        name,
        body: obj,
        fieldManager: component,
      })) as KubeObject;
    },
    async scaleGateway(namespace, name, replicas) {
      const out = (await custom.patchNamespacedCustomObjectScale(
        { ...gateway, namespace, name, body: { spec: { replicas } }, fieldManager: component },
        mergePatch,
      )) as { metadata?: { resourceVersion?: string } } | undefined;
      return out?.metadata?.resourceVersion;
    },
    async annotatePod(namespace, pod, annotations) {
      const out = await core.patchNamespacedPod(
        { namespace, name: pod, body: { metadata: { annotations } }, fieldManager: component },
        mergePatch,
      );
      return plain(out) as unknown as KubeObject;
    },
    async createSecret(secret) {
      try {
        const out = await core.createNamespacedSecret({
          namespace: secret.metadata.namespace ?? "",
          body: secret as never,
          fieldManager: component,
        });
        // Keep no value: what the caller sees is the object's identity and its key names.
        const { name, namespace, uid, resourceVersion } = out.metadata ?? {};
        return {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: name ?? secret.metadata.name, namespace, uid, resourceVersion },
          data: Object.fromEntries(Object.keys(out.data ?? {}).map((k) => [k, ""])),
        };
      } catch (err) {
        if (isConflict(err)) return undefined;
        throw err;
      }
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
    async createEvent(e) {
      await core.createNamespacedEvent({
        namespace: e.involved.namespace,
        body: eventBody(e, { component, instance }, new Date()),
      });
    },
    async getSecretKeys(namespace, name) {
      try {
        const s = await core.readNamespacedSecret({ namespace, name });
        // Drop the values at once: only the key names leave this function.
        const keys = [...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})];
        const { uid, resourceVersion } = s.metadata ?? {};
        return { metadata: { name, namespace, uid, resourceVersion }, keys };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    leases: {
      async get(namespace, name) {
        try {
          return await coordination.readNamespacedLease({ namespace, name });
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
      create: (namespace, lease) => coordination.createNamespacedLease({ namespace, body: lease }),
      replace: (namespace, name, lease) =>
        coordination.replaceNamespacedLease({ namespace, name, body: lease }),
    },
  };
}
