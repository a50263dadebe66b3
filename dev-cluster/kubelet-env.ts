// The kubelet's resolution of a container's environment: envFrom ConfigMaps and Secrets, then env entries with
// a value, a secretKeyRef, a configMapKeyRef or a downward-API fieldRef (name, namespace, pod IP). A reference to
// something missing keeps the pod Pending (PendingError: CreateContainerConfigError, retried), as on a cluster.
import { collection, type KubeRest } from "./kube-rest.js";
import type { VolumeMount } from "./kubelet-volumes.js";
import type { PodSecurityContext } from "./volume-access.js";

export interface ContainerSpec {
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string; optional?: boolean };
      configMapKeyRef?: { name: string; key: string };
      fieldRef?: { fieldPath: string };
    };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  volumeMounts?: VolumeMount[];
  securityContext?: PodSecurityContext;
}

/** A reference the container's config needs is missing: the container is not started yet. */
export class PendingError extends Error {}

export async function resolveEnv(
  api: KubeRest,
  namespace: string,
  pod: { name: string; ip: string },
  container: ContainerSpec,
): Promise<Record<string, string>> {
  const get = (plural: string, name: string) => api.get(`${collection("v1", plural, namespace)}/${name}`);
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = await get("configmaps", from.configMapRef.name);
      if (!cm) throw new PendingError(`configmap "${from.configMapRef.name}" not found`);
      Object.assign(env, cm.data ?? {});
    }
    if (from.secretRef) {
      const s = await get("secrets", from.secretRef.name);
      if (!s) throw new PendingError(`secret "${from.secretRef.name}" not found`);
      for (const [k, v] of Object.entries(s.data ?? {})) env[k] = Buffer.from(v, "base64").toString();
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom;
    if (ref?.secretKeyRef) {
      const s = await get("secrets", ref.secretKeyRef.name);
      const v = s?.data?.[ref.secretKeyRef.key];
      if (v === undefined) {
        if (ref.secretKeyRef.optional) continue;
        throw new PendingError(`secret "${ref.secretKeyRef.name}" key "${ref.secretKeyRef.key}" not found`);
      }
      env[e.name] = Buffer.from(v, "base64").toString();
    } else if (ref?.configMapKeyRef) {
      const cm = await get("configmaps", ref.configMapKeyRef.name);
      const v = cm?.data?.[ref.configMapKeyRef.key];
      if (v === undefined) throw new PendingError(`configmap key "${ref.configMapKeyRef.key}" not found`);
      env[e.name] = v;
    } else if (ref?.fieldRef) {
      const path = ref.fieldRef.fieldPath;
      env[e.name] = path === "metadata.name" ? pod.name : path === "metadata.namespace" ? namespace : pod.ip;
    }
  }
  return env;
}

/** A container port by number or by name. */
export function portOf(container: ContainerSpec, port: number | string): number | undefined {
  if (typeof port === "number") return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}
