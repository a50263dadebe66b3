// A whole local cluster in one process: the API server (CRD installed, the chart's RBAC enforced), Redis, the
// operator as its own process configured as the chart renders it (args, env, ServiceAccount token), a pod
// simulator per namespace that has Deployments (each pod a real gateway process), and optionally a loopback proxy
// per Service. Shared by `rtgw dev-cluster` and the e2e harness (test/e2e), which differ only in options.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { realtimeGatewayCrd } from "../operator/src/api/crd.js";
import {
  ADMIN_USER,
  RbacAuthorizer,
  serviceAccountUser,
  storedPolicy,
  type UserInfo,
} from "./apiserver/rbac.js";
import { FakeApiServer } from "./apiserver/server.js";
import { type ChartObject, operatorPod, RBAC_KINDS, renderChart } from "./chart.js";
import { collection, KubeRest } from "./kube-rest.js";
import { type PodEvent, PodSimulator } from "./pod-simulator.js";
import { freePort } from "./ports.js";
import { type DevRedis, startDevRedis } from "./redis.js";
import { ServiceProxies } from "./service-proxy.js";
import { startTlsFront, type TlsFront } from "./tls-front.js";

/** The Secret (key `url`) holding the cluster's Redis URL, in `default` and the release namespace. */
export const REDIS_SECRET = "dev-cluster-redis";
/** Namespaces that get pods (each has 253 pod IPs: 127.0.(10+k).2-254): bounds the processes one machine runs. */
const MAX_NAMESPACES = 8;

export interface ClusterOptions {
  /** The checkout: charts/, cli/rtgw.ts and gateway/src/main.ts are run from here. */
  rootDir: string;
  /** Kubeconfigs go here, and logs (under logs/ unless `logDir`). */
  workDir: string;
  logDir?: string;
  /** The namespace the chart is installed in (`helm template --namespace`). */
  releaseNamespace: string;
  /** Chart values (`--set`), e.g. operator.scope=namespace. */
  chartSet?: string[];
  /** Changes the chart's rendered RBAC objects before they are enforced (tests remove one rule). */
  rbac?: (objects: ChartObject[]) => ChartObject[];
  /** Keep every request the chart's RBAC granted (rbac.grants), for tests. */
  recordGrants?: boolean;
  /** Extra env for the operator process (the e2e harness's faster autoscaler). */
  operatorEnv?: Record<string, string>;
  /** A loopback proxy per Service (the dev cluster); `onService` hears each new one. */
  serviceProxies?: boolean;
  onService?: (namespace: string, name: string, url: string) => void;
  onPodEvent?: (namespace: string, e: PodEvent) => void;
  /** Extra env for every gateway pod. */
  podEnv?: Record<string, string>;
}

export interface Cluster {
  api: FakeApiServer;
  rbac: RbacAuthorizer;
  /** A client with full access (the identity of the user's kubeconfig). */
  admin: KubeRest;
  /** The admin kubeconfig file (what `export KUBECONFIG=` points at). */
  kubeconfig: string;
  /** The ServiceAccount identity the operator runs as (`system:serviceaccount:<ns>:<name>`). */
  operatorUser: string;
  redis: DevRedis;
  operator: ChildProcess;
  operatorLog: string;
  logDir: string;
  /** The pod simulator of a namespace (started on first use; the cluster starts one per namespace with Deployments). */
  simulate(namespace: string): PodSimulator;
  proxies: ServiceProxies | undefined;
  stop(): Promise<void>;
}

/** A kubeconfig for one bearer-token user (JSON is YAML; written 0600: it holds a token). */
function writeKubeconfig(
  path: string,
  front: TlsFront,
  user: string,
  token: string,
  namespace: string,
): void {
  const ca = Buffer.from(front.caPem).toString("base64");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "rtgw-dev", cluster: { server: front.url, "certificate-authority-data": ca } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: "rtgw-dev", context: { cluster: "rtgw-dev", user, namespace } }],
    "current-context": "rtgw-dev",
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const logDir = o.logDir ?? join(o.workDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        console.error("dev cluster: stopping:", (err as Error).message);
      }
    }
  };
  try {
    const metricsPort = await freePort();
    const chart = await renderChart(o.rootDir, o.releaseNamespace, [
      `operator.port=${metricsPort}`,
      ...(o.chartSet ?? []),
    ]);
    const pod = operatorPod(chart, "rtgw-operator-0");
    const rbacObjects = chart.filter((x) => RBAC_KINDS.includes(x.kind));
    const adminToken = randomBytes(24).toString("hex");
    const operatorToken = randomBytes(24).toString("hex");
    const sa = serviceAccountUser(o.releaseNamespace, pod.serviceAccount);
    const api = await FakeApiServer.start();
    cleanups.push(() => api.stop());
    // RBAC as on a real cluster: the Roles and bindings are API objects; the authorizer reads them at each request.
    const rbac = new RbacAuthorizer(
      new Map<string, UserInfo>([
        [adminToken, ADMIN_USER],
        [operatorToken, sa],
      ]),
      storedPolicy(api),
      o.recordGrants ?? false,
    );
    api.setAuthorizer(rbac.authorize);
    api.registerCrd(realtimeGatewayCrd());
    const admin = new KubeRest(api.url, adminToken);
    for (const ns of new Set(["default", o.releaseNamespace]))
      await admin.create("/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns },
      });
    // The chart's ServiceAccount and RBAC objects, stored as `helm install` would create them.
    for (const x of o.rbac ? o.rbac(rbacObjects) : rbacObjects) {
      const plural = `${x.kind.toLowerCase()}s`;
      const ns = x.metadata.namespace ?? o.releaseNamespace;
      if (x.kind.startsWith("Cluster")) await admin.create(`/apis/${x.apiVersion}/${plural}`, x);
      else
        await admin.create(collection(x.apiVersion, plural, ns), {
          ...x,
          metadata: { ...x.metadata, namespace: ns },
        });
    }

    const redis = await startDevRedis();
    cleanups.push(() => redis.stop());
    // What example.yaml's redis.secretRef names: the cluster's Redis URL, in the namespaces created above.
    for (const ns of new Set(["default", o.releaseNamespace]))
      await admin.create(`/api/v1/namespaces/${ns}/secrets`, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: REDIS_SECRET, namespace: ns },
        data: { url: Buffer.from(redis.url).toString("base64") },
      });

    const front = await startTlsFront(new URL(api.url), o.workDir);
    cleanups.push(() => front.stop());
    const kubeconfig = join(o.workDir, "kubeconfig");
    writeKubeconfig(kubeconfig, front, "admin", adminToken, "default");
    // The ServiceAccount token a real pod would have mounted, as a kubeconfig (client-node's loadFromDefault).
    const operatorKubeconfig = join(o.workDir, "operator.kubeconfig");
    writeKubeconfig(operatorKubeconfig, front, sa.name, operatorToken, o.releaseNamespace);

    const operatorLog = join(logDir, "operator.log");
    const operator = spawn(process.execPath, ["--import", "tsx", "cli/rtgw.ts", ...pod.args], {
      cwd: o.rootDir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        ...pod.env,
        ...(o.operatorEnv ?? {}),
        KUBECONFIG: operatorKubeconfig,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const opLog = createWriteStream(operatorLog);
    operator.stdout?.pipe(opLog);
    operator.stderr?.pipe(opLog);
    const killOperator = () => operator.kill("SIGKILL");
    process.once("exit", killOperator);
    cleanups.push(async () => {
      process.removeListener("exit", killOperator);
      if (operator.exitCode !== null || operator.signalCode !== null) return;
      const exited = new Promise((r) => operator.once("exit", r));
      operator.kill("SIGTERM");
      const t = setTimeout(() => operator.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    });

    // kube-controller-manager + kubelet, per namespace (pod IPs 127.0.10.N for the first, 127.0.11.N next...).
    const simulators = new Map<string, PodSimulator>();
    const simulate = (namespace: string): PodSimulator => {
      const known = simulators.get(namespace);
      if (known) return known;
      const sim = new PodSimulator({
        server: api.url,
        token: adminToken,
        namespace,
        rootDir: o.rootDir,
        logDir: o.logDir ? logDir : join(logDir, namespace),
        ipPrefix: `127.0.${10 + simulators.size}.`,
        ...(o.podEnv ? { extraEnv: o.podEnv } : {}),
        onEvent: (e) => o.onPodEvent?.(namespace, e),
      });
      simulators.set(namespace, sim);
      sim.start();
      return sim;
    };
    cleanups.push(() => Promise.all([...simulators.values()].map((s) => s.stop())).then(() => undefined));
    let watching = true;
    const discovery = (async () => {
      while (watching) {
        try {
          for (const d of await admin.list("/apis/apps/v1/deployments"))
            if (d.metadata.namespace && simulators.size < MAX_NAMESPACES) simulate(d.metadata.namespace);
        } catch {
          // the API server is stopping
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    cleanups.push(async () => {
      watching = false;
      await discovery;
    });

    let proxies: ServiceProxies | undefined;
    if (o.serviceProxies) {
      proxies = new ServiceProxies(admin, o.onService ? { onService: o.onService } : {});
      await proxies.start();
      const p = proxies;
      cleanups.push(() => p.stop());
    }

    return {
      api,
      rbac,
      admin,
      kubeconfig,
      operatorUser: sa.name,
      redis,
      operator,
      operatorLog,
      logDir,
      simulate,
      proxies,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
