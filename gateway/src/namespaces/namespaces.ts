// Which options a channel gets: pure, resolved once per namespace (a subscribe looks it up in a Map).
import type { ConfigFile, NamespaceOptions } from "./schema.js";

/** Every option set: the file's, or the gateway-wide default for what the file leaves out. */
export type ResolvedNamespace = Required<NamespaceOptions> & { name: string };

export type Lookup = { ok: true; namespace: ResolvedNamespace } | { ok: false; message: string };

/** The gateway-wide defaults (RTGW_HISTORY_SIZE, RTGW_HISTORY_TTL_SECONDS): today's behaviour. */
export interface NamespaceDefaults {
  historySize: number;
  historyTtlSeconds: number;
}

/** `chat` for `chat:42`; "" (the default namespace) for a channel with no `:`. */
export function namespaceOf(channel: string): string {
  const colon = channel.indexOf(":");
  return colon < 0 ? "" : channel.slice(0, colon);
}

function resolve(name: string, options: NamespaceOptions, base: NamespaceDefaults): ResolvedNamespace {
  const historySize = options.historySize ?? base.historySize;
  return {
    name,
    historySize,
    historyTtlSeconds: options.historyTtlSeconds ?? base.historyTtlSeconds,
    // No history, nothing to recover from: say so at subscribe rather than answer `recovered: false` forever.
    recovery: (options.recovery ?? true) && historySize > 0,
    presence: options.presence ?? true,
    joinLeave: options.joinLeave ?? true,
    publish: options.publish ?? "clients",
    subscribe: options.subscribe ?? "token",
    proxySubscribe: options.proxySubscribe ?? false,
    proxyPublish: options.proxyPublish ?? false,
  };
}

export interface Namespaces {
  /** The options of `channel`'s namespace, or why the channel is not allowed at all. */
  of(channel: string): Lookup;
  /** Every declared namespace ("" is the default one). */
  readonly all: readonly ResolvedNamespace[];
}

/** No file: one default namespace with today's behaviour, every channel in it. */
export function createNamespaces(base: NamespaceDefaults, file?: ConfigFile): Namespaces {
  const fallback = resolve("", file?.default ?? {}, base);
  const declared = new Map<string, ResolvedNamespace>(
    Object.entries(file?.namespaces ?? {}).map(([name, options]) => [name, resolve(name, options, base)]),
  );
  const refuse = (file?.undeclared ?? (declared.size > 0 ? "refuse" : "default")) === "refuse";
  return {
    all: [fallback, ...declared.values()],
    of(channel) {
      const name = namespaceOf(channel);
      if (name === "") return { ok: true, namespace: fallback };
      const namespace = declared.get(name);
      if (namespace) return { ok: true, namespace };
      if (refuse) return { ok: false, message: `namespace ${name} is not declared (channel ${channel})` };
      return { ok: true, namespace: fallback };
    },
  };
}
