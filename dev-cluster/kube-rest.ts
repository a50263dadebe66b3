// A small JSON REST client for the simulated cluster's own controllers (the pod simulator, the e2e harness). The
// operator under test uses the real @kubernetes/client-node; these stand-ins for kube-controller-manager and the
// kubelet only need list/get/create/patch/delete, so plain fetch keeps them light.

export class KubeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    finalizers?: string[];
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** Path of a namespaced collection: core kinds under /api/v1, others under /apis/group/version. */
export function collection(apiVersion: string, plural: string, namespace: string): string {
  const base = apiVersion === "v1" ? "/api/v1" : `/apis/${apiVersion}`;
  return `${base}/namespaces/${namespace}/${plural}`;
}

export class KubeRest {
  /** `token`: the bearer token to send (the API server authenticates it when RBAC is on). */
  constructor(
    private readonly server: string,
    private readonly token?: string,
  ) {}

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<T> {
    const res = await fetch(`${this.server}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": contentType }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new KubeError(res.status, `${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  async list(path: string, labelSelector?: string): Promise<KubeObject[]> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
    const list = await this.call<{ items: KubeObject[] }>("GET", `${path}${q}`);
    return list.items;
  }

  async get(path: string): Promise<KubeObject | undefined> {
    try {
      return await this.call<KubeObject>("GET", path);
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return undefined;
      throw err;
    }
  }

  create(path: string, object: object): Promise<KubeObject> {
    return this.call("POST", path, object);
  }

  put(path: string, object: object): Promise<KubeObject> {
    return this.call("PUT", path, object);
  }

  mergePatch(path: string, patch: object): Promise<KubeObject> {
    return this.call("PATCH", path, patch, "application/merge-patch+json");
  }

  async delete(path: string): Promise<void> {
    try {
      await this.call("DELETE", path);
    } catch (err) {
      if (!(err instanceof KubeError && err.code === 404)) throw err;
    }
  }
}
