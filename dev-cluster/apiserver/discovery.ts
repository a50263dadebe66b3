// Discovery documents (legacy, unaggregated: kubectl and client-node fall back to them when the server does not
// answer the aggregated form): /version, /api, /apis and each group version's resource list with short names,
// categories and the status / scale subresources.
import { HttpError } from "./errors.js";
import type { JsonObject } from "./fieldset.js";
import type { ResourceType } from "./resources.js";

export const VERSION_INFO: JsonObject = {
  major: "1",
  minor: "35",
  gitVersion: "v1.35.0-rtgw-fake",
  gitCommit: "",
  gitTreeState: "clean",
  buildDate: "1970-01-01T00:00:00Z",
  goVersion: "",
  compiler: "",
  platform: "linux/amd64",
};

export const API_VERSIONS: JsonObject = {
  kind: "APIVersions",
  versions: ["v1"],
  serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
};

export function groupList(types: ResourceType[]): JsonObject {
  const groups = new Map<string, string[]>();
  for (const t of types) {
    if (t.group === "") continue;
    const vs = groups.get(t.group) ?? [];
    if (!vs.includes(t.version)) vs.push(t.version);
    groups.set(t.group, vs);
  }
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [...groups].map(([name, vs]) => ({
      name,
      versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0]! },
    })),
  };
}

export function resourceList(types: ResourceType[], group: string, version: string): JsonObject {
  const ts = types.filter((t) => t.group === group && t.version === version);
  if (ts.length === 0) throw new HttpError(404, "NotFound", `no group version ${group}/${version}`);
  const resources: JsonObject[] = [];
  for (const t of ts) {
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories?.length ? { categories: t.categories } : {}),
    });
    if (t.status) {
      resources.push({
        name: `${t.plural}/status`,
        singularName: "",
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ["get", "patch", "update"],
      });
    }
    if (t.scale) {
      resources.push({
        name: `${t.plural}/scale`,
        singularName: "",
        namespaced: t.namespaced,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}
