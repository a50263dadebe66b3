// The chart as the dev cluster installs it: `helm template` of charts/realtime-gateway, parsed. The dev cluster and
// the e2e harness take from it the operator's RBAC (enforced by apiserver/rbac.ts) and the operator container's
// args and env, so the operator runs exactly as the chart configures it on a real cluster.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
export const RELEASE = "rtgw";

/** helm from PATH, else the copy scripts/tools.sh unpacks into .cache/tools/bin; a clear error without either. */
export function findHelm(rootDir: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "helm"))) return join(dir, "helm");
  }
  const cached = join(rootDir, ".cache/tools/bin/helm");
  if (existsSync(cached)) return cached;
  throw new Error("helm not found on PATH or in .cache/tools/bin: run scripts/tools.sh (or install helm)");
}

export interface ChartObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** `helm template rtgw charts/realtime-gateway --namespace <ns> --set ...` as objects. */
export async function renderChart(
  rootDir: string,
  namespace: string,
  set: string[] = [],
): Promise<ChartObject[]> {
  const args = ["template", RELEASE, join(rootDir, "charts/realtime-gateway"), "--namespace", namespace];
  for (const s of set) args.push("--set", s);
  const { stdout } = await run(findHelm(rootDir), args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as ChartObject | null)
    .filter((o): o is ChartObject => o !== null && typeof o === "object" && typeof o.kind === "string");
}

/** What the chart renders for the operator's identity and permissions: stored in the dev cluster's API server. */
export const RBAC_KINDS = ["ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

interface Container {
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

export interface OperatorPod {
  serviceAccount: string;
  args: string[];
  /** The container's env with downward-API fields resolved for `podName`. */
  env: Record<string, string>;
}

/** The operator Deployment's ServiceAccount, args and env (fieldRefs resolved as the kubelet does). */
export function operatorPod(objects: ChartObject[], podName: string): OperatorPod {
  const d = objects.find((o) => o.kind === "Deployment" && o.metadata.name.endsWith("-operator"));
  if (!d) throw new Error("the chart rendered no operator Deployment");
  const spec = (d.spec as { template: { spec: { serviceAccountName: string; containers: Container[] } } })
    .template.spec;
  const container = spec.containers[0] ?? {};
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (field === "metadata.name") env[e.name] = podName;
    else if (field === "metadata.namespace") env[e.name] = d.metadata.namespace ?? "default";
  }
  return { serviceAccount: spec.serviceAccountName, args: container.args ?? [], env };
}
