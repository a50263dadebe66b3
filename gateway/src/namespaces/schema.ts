// The gateway's config file (RTGW_CONFIG, YAML or JSON): channel namespaces and the backend hooks. One schema,
// read by the gateway and rendered by the operator from `spec.namespaces` / `spec.proxy`, so the two cannot
// disagree. Strict objects: a misspelt option is an error naming it, not a silently ignored line.
import { z } from "zod";

/** A namespace's name: the part of a channel before its first `:` (`chat` in `chat:42`). */
export const NAMESPACE_RE = /^[A-Za-z0-9_\-.]{1,64}$/;

/** An HTTP header name a hook may send. */
export const HEADER_NAME_RE = /^[A-Za-z0-9-]{1,64}$/;

const count = (max: number) => z.number().int().min(0).max(max);

/** What a namespace may set; anything left out takes the gateway-wide default (RTGW_* variables). */
export const namespaceOptions = z
  .object({
    /** Messages kept per channel for recovery; 0: none (and no recovery). Default RTGW_HISTORY_SIZE. */
    historySize: count(1_000_000).optional(),
    /** How long an idle channel's history lives. Default RTGW_HISTORY_TTL_SECONDS. */
    historyTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(31 * 24 * 3600)
      .optional(),
    /** Whether a subscribe may ask for `since` (resume from history). */
    recovery: z.boolean().optional(),
    /** Whether subscribers may join presence and ask who is there. */
    presence: z.boolean().optional(),
    /** Whether presence members' join/leave frames are sent to subscribers. */
    joinLeave: z.boolean().optional(),
    /** Who may publish: `clients` (with the right in their token) or `server` (the server API only). */
    publish: z.enum(["clients", "server"]).optional(),
    /** Who may subscribe: `token` (with the right in their token) or `anyone` (any accepted connection). */
    subscribe: z.enum(["token", "anyone"]).optional(),
    /** Ask the backend's subscribe hook before each subscribe (proxy.subscribe must be set). */
    proxySubscribe: z.boolean().optional(),
    /** Pass each client publish through the backend's publish hook (proxy.publish must be set). */
    proxyPublish: z.boolean().optional(),
  })
  .strict();
export type NamespaceOptions = z.output<typeof namespaceOptions>;

/** One backend hook: where to POST, how long to wait, how many connections to hold open to it. */
export const hookOptions = z
  .object({
    url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    timeoutMs: z.number().int().min(10).max(60_000).default(1000),
    maxConnections: z.number().int().min(1).max(1024).default(64),
    /** Sent with every call, e.g. a shared secret the backend checks. */
    headers: z.record(z.string().regex(HEADER_NAME_RE), z.string().max(4096)).default({}),
    /**
     * Header values read at start from files (a mounted Secret: the operator renders credentials here, never into
     * `headers`, which a ConfigMap holds in clear). config-file.ts reads them into `headers`.
     */
    headerFiles: z
      .record(z.string().regex(HEADER_NAME_RE), z.string().regex(/^\//, "must be an absolute path").max(4096))
      .default({}),
  })
  .strict();
export type HookOptions = z.output<typeof hookOptions>;

export const configFile = z
  .object({
    /** Options of channels with no `:` (and, with `undeclared: default`, of undeclared namespaces). */
    default: namespaceOptions.default({}),
    namespaces: z
      .record(z.string().regex(NAMESPACE_RE, "must be 1-64 of letters, digits, _ - ."), namespaceOptions)
      .default({}),
    /**
     * A channel in a namespace not listed: `refuse` (the error names it) or `default` (default's options).
     * Unset: `refuse` once any namespace is declared, else `default` (a file with only hooks changes no channel).
     */
    undeclared: z.enum(["refuse", "default"]).optional(),
    proxy: z
      .object({
        connect: hookOptions.optional(),
        subscribe: hookOptions.optional(),
        publish: hookOptions.optional(),
        refresh: hookOptions.optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((file, ctx) => {
    for (const [hook, options] of Object.entries(file.proxy)) {
      const seen = new Set(Object.keys(options?.headers ?? {}).map((h) => h.toLowerCase()));
      for (const header of Object.keys(options?.headerFiles ?? {})) {
        if (seen.has(header.toLowerCase()))
          ctx.addIssue({
            code: "custom",
            path: ["proxy", hook, "headerFiles", header],
            message: "is set twice (headers and headerFiles name the same header)",
          });
        seen.add(header.toLowerCase());
      }
    }
    for (const [name, ns] of [["default", file.default] as const, ...Object.entries(file.namespaces)]) {
      const path = name === "default" ? ["default"] : ["namespaces", name];
      if (ns.proxySubscribe && !file.proxy.subscribe)
        ctx.addIssue({ code: "custom", path: [...path, "proxySubscribe"], message: "needs proxy.subscribe" });
      if (ns.proxyPublish && !file.proxy.publish)
        ctx.addIssue({ code: "custom", path: [...path, "proxyPublish"], message: "needs proxy.publish" });
    }
  });
export type ConfigFile = z.output<typeof configFile>;
