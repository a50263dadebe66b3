// Who may read a file the kubelet writes into a ConfigMap, Secret or projected volume, pure. The kubelet writes
// them owned by root, group root or the pod's fsGroup when set, with the item's mode or the volume's defaultMode
// (0644 without either); the container reads them as its runAsUser with its runAsGroup, the fsGroup and the
// supplementalGroups. So a non-root container with a group-only mode and no fsGroup cannot read its own key: the
// simulated kubelet refuses such a pod (kubelet-volumes.ts) and the operator's render tests check every mount.

export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  supplementalGroups?: number[];
}

/** A volume item: a ConfigMap or Secret key written at `path`, with its own mode. */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** The slice of a volume that decides its files' modes. */
export interface ModedVolume {
  name: string;
  configMap?: { items?: KeyToPath[]; defaultMode?: number };
  secret?: { items?: KeyToPath[]; defaultMode?: number };
  projected?: { defaultMode?: number; sources: { secret?: { items?: KeyToPath[] } }[] };
}

export const KUBELET_DEFAULT_MODE = 0o644;

/** The mode of a file in `v` at `path` (undefined: a kind the kubelet writes no files for, e.g. emptyDir). */
export function fileMode(v: ModedVolume, path?: string): number | undefined {
  const itemMode = (items: KeyToPath[] | undefined) => items?.find((i) => i.path === path)?.mode;
  if (v.configMap) return itemMode(v.configMap.items) ?? v.configMap.defaultMode ?? KUBELET_DEFAULT_MODE;
  if (v.secret) return itemMode(v.secret.items) ?? v.secret.defaultMode ?? KUBELET_DEFAULT_MODE;
  if (v.projected) {
    const items = v.projected.sources.flatMap((s) => s.secret?.items ?? []);
    return itemMode(items) ?? v.projected.defaultMode ?? KUBELET_DEFAULT_MODE;
  }
  return undefined;
}

/**
 * Whether the container (its security context over the pod's) can read a file of mode `mode` the kubelet wrote.
 * No runAsUser anywhere: the image's user, which this cannot know; taken as root (the operator always sets one).
 */
export function canRead(
  mode: number,
  pod: PodSecurityContext = {},
  container: PodSecurityContext = {},
): boolean {
  const uid = container.runAsUser ?? pod.runAsUser;
  if (uid === undefined || uid === 0) return true;
  const fileGroup = pod.fsGroup ?? 0;
  const groups = [container.runAsGroup ?? pod.runAsGroup, pod.fsGroup, ...(pod.supplementalGroups ?? [])];
  // The file's owner is root, so a non-root user reads through the group bits or the other bits.
  if (groups.includes(fileGroup)) return (mode & 0o040) !== 0;
  return (mode & 0o004) !== 0;
}

/** "0440 root:root" for an error message. */
export function describeFile(mode: number, pod: PodSecurityContext = {}): string {
  return `${mode.toString(8).padStart(4, "0")} root:${pod.fsGroup ?? "root"}`;
}
