// The kubelet's volumes for a simulated pod: ConfigMap, Secret and projected-Secret volumes written as files under
// the pod's own directory (emptyDir is left to the process's own /tmp). A simulated container has no mount
// namespace, so its mount paths are mapped: an env value or a mounted ConfigMap file that names a path under a
// mount gets the pod directory in front (RTGW_CONFIG=/etc/rtgw/config/config.yaml and the headerFiles paths inside
// that file). A missing ConfigMap, Secret or key keeps the pod Pending (PendingError), as on a cluster; so does a
// file the container's user could not read there (volume-access.ts: a group-only mode without fsGroup), which on
// a cluster would be a gateway that cannot open its TLS key.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { collection, type KubeRest } from "./kube-rest.js";
import { PendingError } from "./kubelet-env.js";
import { canRead, describeFile, fileMode, type KeyToPath, type PodSecurityContext } from "./volume-access.js";

export interface Volume {
  name: string;
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number };
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number };
  projected?: { defaultMode?: number; sources: { secret?: { name: string; items?: KeyToPath[] } }[] };
}
export interface VolumeMount {
  name: string;
  mountPath: string;
}

type Files = Map<string, string>;

function pick(data: Record<string, string>, items: KeyToPath[] | undefined, what: string): Files {
  const out: Files = new Map();
  for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
    const value = data[key];
    if (value === undefined) throw new PendingError(`${what} has no key "${key}"`);
    out.set(path, value);
  }
  return out;
}

/** The files one volume holds, relative to its mount; undefined for kinds the simulator leaves alone. */
async function volumeFiles(api: KubeRest, namespace: string, v: Volume): Promise<Files | undefined> {
  const get = (plural: string, name: string) => api.get(`${collection("v1", plural, namespace)}/${name}`);
  const secretData = async (name: string) => {
    const s = await get("secrets", name);
    if (!s) throw new PendingError(`secret "${name}" not found`);
    const data = (s.data ?? {}) as Record<string, string>;
    return Object.fromEntries(
      Object.entries(data).map(([k, b64]) => [k, Buffer.from(b64, "base64").toString()]),
    );
  };
  if (v.configMap) {
    const cm = await get("configmaps", v.configMap.name);
    if (!cm) throw new PendingError(`configmap "${v.configMap.name}" not found`);
    return pick(
      (cm.data ?? {}) as Record<string, string>,
      v.configMap.items,
      `configmap "${v.configMap.name}"`,
    );
  }
  if (v.secret)
    return pick(await secretData(v.secret.secretName), v.secret.items, `secret "${v.secret.secretName}"`);
  if (v.projected) {
    const out: Files = new Map();
    for (const { secret } of v.projected.sources) {
      if (!secret) continue;
      for (const [p, value] of pick(await secretData(secret.name), secret.items, `secret "${secret.name}"`))
        out.set(p, value);
    }
    return out;
  }
  return undefined;
}

/**
 * Writes the container's mounted volumes under `podDir` and returns how to map a string that names a path under a
 * mount (env values; the ConfigMap files themselves are mapped as they are written).
 */
export async function mountVolumes(
  api: KubeRest,
  namespace: string,
  podDir: string,
  volumes: Volume[],
  mounts: VolumeMount[],
  security: { pod?: PodSecurityContext | undefined; container?: PodSecurityContext | undefined } = {},
): Promise<(text: string) => string> {
  const mounted: [string, Files, boolean][] = [];
  for (const m of mounts) {
    const v = volumes.find((x) => x.name === m.name);
    if (!v) throw new PendingError(`volume "${m.name}" not found in the pod spec`);
    const files = await volumeFiles(api, namespace, v);
    if (!files) continue;
    for (const path of files.keys()) {
      const mode = fileMode(v, path) ?? 0;
      if (!canRead(mode, security.pod, security.container))
        throw new PendingError(
          `${m.mountPath}/${path} (${describeFile(mode, security.pod)}): permission denied for uid ${security.container?.runAsUser ?? security.pod?.runAsUser}`,
        );
    }
    mounted.push([m.mountPath, files, v.configMap !== undefined]);
  }
  const prefixes = mounted.map(([mountPath]) => mountPath.replace(/\/$/, ""));
  const remap = (text: string) =>
    prefixes.reduce(
      (t, p) =>
        t.replace(new RegExp(`(^|[\\s"':=])${regexQuote(p)}(?=/|$|[\\s"'])`, "gm"), `$1${podDir}${p}`),
      text,
    );
  for (const [mountPath, files, isConfigMap] of mounted)
    for (const [path, value] of files) {
      const file = join(podDir, mountPath, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, isConfigMap ? remap(value) : value, { mode: 0o600 });
    }
  return remap;
}

const regexQuote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
