// kube-proxy for the dev cluster: one TCP balancer (tcp-balancer.ts) on 127.0.0.1 per Service, over the Service's
// endpoints (the pods its selector matches that are Ready and not terminating, or every pod with an IP under
// publishNotReadyAddresses), on the first Service port's targetPort. Services and pods are followed by polling
// the API, so a pod leaves the endpoints when it turns unready or starts terminating (a drain).
import type { KubeObject, KubeRest } from "./kube-rest.js";
import { type Endpoint, startTcpBalancer, type TcpBalancer } from "./tcp-balancer.js";

export type { Endpoint } from "./tcp-balancer.js";

interface ServiceSpec {
  selector?: Record<string, string>;
  publishNotReadyAddresses?: boolean;
  ports?: { port: number; targetPort?: number | string }[];
}

interface PodShape {
  spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}

/** The endpoints of a Service's first port among `pods` (what the EndpointSlice controller would publish). Pure. */
export function serviceEndpoints(service: KubeObject, pods: readonly KubeObject[]): Endpoint[] {
  const spec = (service.spec ?? {}) as ServiceSpec;
  const selector = spec.selector;
  const first = spec.ports?.[0];
  if (!selector || Object.keys(selector).length === 0 || !first) return [];
  const out: Endpoint[] = [];
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
    const p = pod as unknown as PodShape & KubeObject;
    if ((p.metadata as { deletionTimestamp?: string }).deletionTimestamp) continue;
    const ip = p.status?.podIP;
    if (!ip) continue;
    const ready = p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    if (!ready && !spec.publishNotReadyAddresses) continue;
    const target = first.targetPort ?? first.port;
    const port =
      typeof target === "number"
        ? target
        : p.spec?.containers?.flatMap((c) => c.ports ?? []).find((x) => x.name === target)?.containerPort;
    if (port !== undefined) out.push({ ip, port });
  }
  return out;
}

/** Listeners at most (one per Service): a bound on what a runaway apply can open. */
const MAX_SERVICES = 200;

interface Proxy {
  balancer: TcpBalancer;
  endpoints: Endpoint[];
}

export interface ServiceProxyOptions {
  /** Called once per new Service with its loopback URL. */
  onService?: (namespace: string, name: string, url: string) => void;
  pollMs?: number;
}

/** Follows every Service in the cluster and keeps one proxy listener per Service. */
export class ServiceProxies {
  private readonly proxies = new Map<string, Proxy>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: KubeRest,
    private readonly o: ServiceProxyOptions = {},
  ) {}

  async start(): Promise<void> {
    await this.sync();
    const loop = () => {
      this.busy = this.sync()
        .catch((err) => console.error("service proxy:", (err as Error).message))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.o.pollMs ?? 500);
        });
    };
    this.timer = setTimeout(loop, this.o.pollMs ?? 500);
  }

  /** `namespace/name` → loopback URL, for every Service proxied now. */
  urls(): Map<string, string> {
    return new Map([...this.proxies].map(([k, p]) => [k, p.balancer.url]));
  }

  endpointsOf(key: string): Endpoint[] {
    return this.proxies.get(key)?.endpoints ?? [];
  }

  private async sync(): Promise<void> {
    const [services, pods] = await Promise.all([
      this.api.list("/api/v1/services"),
      this.api.list("/api/v1/pods"),
    ]);
    const seen = new Set<string>();
    for (const svc of services) {
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      seen.add(key);
      const inNs = pods.filter((p) => p.metadata.namespace === svc.metadata.namespace);
      const endpoints = serviceEndpoints(svc, inNs);
      const existing = this.proxies.get(key);
      if (existing) existing.endpoints = endpoints;
      else if (!this.stopped && this.proxies.size < MAX_SERVICES) await this.open(key, endpoints);
    }
    for (const key of [...this.proxies.keys()]) if (!seen.has(key)) await this.close(key);
  }

  private async open(key: string, endpoints: Endpoint[]): Promise<void> {
    let proxy: Proxy | undefined;
    const balancer = await startTcpBalancer({ endpoints: () => proxy?.endpoints ?? [] });
    proxy = { balancer, endpoints };
    this.proxies.set(key, proxy);
    const [ns = "", name = ""] = key.split("/");
    this.o.onService?.(ns, name, balancer.url);
  }

  private async close(key: string): Promise<void> {
    const p = this.proxies.get(key);
    if (!p) return;
    this.proxies.delete(key);
    await p.balancer.close();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.busy;
    for (const key of [...this.proxies.keys()]) await this.close(key);
  }
}
