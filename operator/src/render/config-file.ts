// The gateway's RTGW_CONFIG file, rendered from spec.namespaces, spec.defaultNamespace, spec.undeclaredNamespaces
// and spec.proxy, in a ConfigMap of its own mounted read-only into the pods. A hook's secretHeaders never enter the
// file: their Secret keys are mounted (a projected volume) and the file names the paths (headerFiles), which the
// gateway reads at start. None of those fields set: no file, no ConfigMap, no RTGW_CONFIG (today's behaviour).
// The gateway reads the file once at start (no hot reload), so its text is in the pod template's config hash.
import { stringify } from "yaml";
import type { z } from "zod";
import type { configFile } from "../../../gateway/src/namespaces/schema.js";
import { HOOKS } from "../api/namespaces.js";
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { names } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

export const CONFIG_FILE_KEY = "config.yaml";
export const CONFIG_FILE_DIR = "/etc/rtgw/config";
export const CONFIG_FILE_PATH = `${CONFIG_FILE_DIR}/${CONFIG_FILE_KEY}`;
/** Where the hooks' secret headers are mounted: one file per header, `<hook>/<Header-Name>`. */
export const HOOK_HEADERS_DIR = "/etc/rtgw/hooks";
const CONFIG_VOLUME = "config-file";
const HEADERS_VOLUME = "hook-headers";

type ConfigFileInput = z.input<typeof configFile>;

export function hasConfigFile(gw: RealtimeGateway): boolean {
  const s = gw.spec;
  return [s.namespaces, s.defaultNamespace, s.undeclaredNamespaces, s.proxy].some((v) => v !== undefined);
}

const headerPath = (hook: string, header: string) => `${hook}/${header}`;

/** What the file says, field by field from the spec; undefined without any of the fields. */
export function configFileOptions(gw: RealtimeGateway): ConfigFileInput | undefined {
  if (!hasConfigFile(gw)) return undefined;
  const s = gw.spec;
  const proxy: NonNullable<ConfigFileInput["proxy"]> = {};
  for (const hook of HOOKS) {
    const h = s.proxy?.[hook];
    if (!h) continue;
    const headerFiles = Object.fromEntries(
      Object.keys(h.secretHeaders ?? {}).map((header) => [
        header,
        `${HOOK_HEADERS_DIR}/${headerPath(hook, header)}`,
      ]),
    );
    proxy[hook] = {
      url: h.url,
      timeoutMs: h.timeoutMs,
      maxConnections: h.maxConnections,
      ...(h.headers ? { headers: h.headers } : {}),
      ...(Object.keys(headerFiles).length > 0 ? { headerFiles } : {}),
    };
  }
  return {
    ...(s.defaultNamespace ? { default: s.defaultNamespace } : {}),
    ...(s.namespaces ? { namespaces: s.namespaces } : {}),
    // Always said: with no namespaces listed, every channel keeps the default namespace (today's behaviour), so
    // adding only a hook never starts refusing chat:42.
    undeclared: s.undeclaredNamespaces ?? (Object.keys(s.namespaces ?? {}).length > 0 ? "refuse" : "default"),
    ...(s.proxy ? { proxy } : {}),
  };
}

export function configFileText(gw: RealtimeGateway): string | undefined {
  const options = configFileOptions(gw);
  if (options === undefined) return undefined;
  const { namespace, name } = gw.metadata;
  return `# Rendered by the rtgw operator from RealtimeGateway ${namespace}/${name}: edit its spec, not this file.\n${stringify(options, { lineWidth: 0 })}`;
}

export function renderConfigFileMap(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  const text = configFileText(gw);
  if (text === undefined) return undefined;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMetadata(gw, names.configFile(gw)),
    data: { [CONFIG_FILE_KEY]: text },
  };
}

/** The pod's volumes and the container's mounts for the file and the hooks' secret headers. */
export function configFileVolumes(gw: RealtimeGateway): { volumes: object[]; mounts: object[] } {
  if (!hasConfigFile(gw)) return { volumes: [], mounts: [] };
  // The file is not secret (0444); the hooks' header values are (0440: the pod's fsGroup, render/deployment.ts,
  // is the files' group, so the non-root gateway reads them and no other user does).
  const volumes: object[] = [
    {
      name: CONFIG_VOLUME,
      configMap: {
        name: names.configFile(gw),
        items: [{ key: CONFIG_FILE_KEY, path: CONFIG_FILE_KEY }],
        defaultMode: 0o444,
      },
    },
  ];
  const mounts: object[] = [{ name: CONFIG_VOLUME, mountPath: CONFIG_FILE_DIR, readOnly: true }];
  // One projected volume over every referenced Secret: each header's key at its <hook>/<header> path.
  const bySecret = new Map<string, { key: string; path: string }[]>();
  for (const hook of HOOKS)
    for (const [header, ref] of Object.entries(gw.spec.proxy?.[hook]?.secretHeaders ?? {})) {
      const items = bySecret.get(ref.name) ?? [];
      items.push({ key: ref.key, path: headerPath(hook, header) });
      bySecret.set(ref.name, items);
    }
  if (bySecret.size > 0) {
    volumes.push({
      name: HEADERS_VOLUME,
      projected: {
        defaultMode: 0o440,
        sources: [...bySecret].map(([name, items]) => ({ secret: { name, items } })),
      },
    });
    mounts.push({ name: HEADERS_VOLUME, mountPath: HOOK_HEADERS_DIR, readOnly: true });
  }
  return { volumes, mounts };
}
