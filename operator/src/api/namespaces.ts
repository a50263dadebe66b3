// The RealtimeGateway's channel namespaces and backend hooks: spec.namespaces, spec.defaultNamespace,
// spec.undeclaredNamespaces and spec.proxy, rendered into the gateway's RTGW_CONFIG file (render/config-file.ts).
// The namespace options ARE the gateway's schema (gateway/src/namespaces/schema.ts), so the two cannot drift; what
// JSON Schema cannot say about map keys and cross-field needs is CEL, each rule with its TypeScript twin. A hook's
// credentials come from Secrets (secretHeaders), never from the spec in clear: the file is a ConfigMap anyone who
// may read ConfigMaps can read.
import { z } from "zod";
import {
  HEADER_NAME_RE,
  hookOptions,
  NAMESPACE_RE,
  type NamespaceOptions,
  namespaceOptions,
} from "../../../gateway/src/namespaces/schema.js";
import { type CelRule, cel, celPattern } from "./cel.js";
import { type SecretKeyRef, secretKeyRef } from "./secret-ref.js";

export const HOOKS = ["connect", "subscribe", "publish", "refresh"] as const;
export type HookName = (typeof HOOKS)[number];

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const PORT = "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
const DNS_NAME = "([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?";
/** A URL's authority without credentials: a DNS name or an IPv4 address and an optional port (spec.auth.jwksUrl too). */
export const HOST_PORT = `(${DNS_NAME}|(${OCTET}\\.){3}${OCTET})(:${PORT})?`;
/**
 * A hook's URL: http(s), a DNS name or an IPv4 address, an optional port and path. Narrower than the gateway's
 * check (which it must imply: a property test says so), and never `user:password@`, which would sit in the
 * ConfigMap in clear.
 */
export const HOOK_URL_RE = new RegExp(`^https?://${HOST_PORT}([/?#][!-~]*)?$`);
/** Plain header names that say "credential" (lower case): such a value belongs in secretHeaders. */
export const CREDENTIAL_HEADER_RE =
  /^(authorization|proxy-authorization|cookie)$|secret|token|passw|api-?key|credential/;

type HeaderMap = Record<string, unknown>;
const headerNamesRule: CelRule<HeaderMap> = {
  rule: `self.all(h, h.matches(${celPattern(HEADER_NAME_RE)}))`,
  message: "header names must be 1-64 of letters, digits and -",
  check: (m) => Object.keys(m).every((h) => HEADER_NAME_RE.test(h)),
};
export const plainHeaderRule: CelRule<HeaderMap> = {
  rule: `self.all(h, !h.lowerAscii().matches(${celPattern(CREDENTIAL_HEADER_RE)}))`,
  message:
    "a header that carries a credential (Authorization, Cookie, *token*, *secret*, *api-key*, ...) must come from a Secret: put it in secretHeaders",
  check: (m) => Object.keys(m).every((h) => !CREDENTIAL_HEADER_RE.test(h.toLowerCase())),
};
export const uniqueHeadersRule: CelRule<HeaderMap> = {
  rule: "self.all(a, self.all(b, a == b || a.lowerAscii() != b.lowerAscii()))",
  message: "header names must differ in more than case",
  check: (m) => new Set(Object.keys(m).map((h) => h.toLowerCase())).size === Object.keys(m).length,
};
type HookInput = { headers?: HeaderMap | undefined; secretHeaders?: HeaderMap | undefined };
export const hookRules: CelRule<HookInput>[] = [
  {
    rule: "!has(self.headers) || !has(self.secretHeaders) || self.headers.all(h, !self.secretHeaders.exists(s, s.lowerAscii() == h.lowerAscii()))",
    message: "a header is in both headers and secretHeaders",
    check: (hook) => {
      const secret = new Set(Object.keys(hook.secretHeaders ?? {}).map((h) => h.toLowerCase()));
      return Object.keys(hook.headers ?? {}).every((h) => !secret.has(h.toLowerCase()));
    },
  },
];

const hook = z
  .object({
    url: z
      .string()
      .max(2048)
      .regex(HOOK_URL_RE)
      .pipe(hookOptions.shape.url)
      .describe("where the gateway POSTs: http(s)://host[:port][/path], no user:password@"),
    timeoutMs: hookOptions.shape.timeoutMs.describe("how long a call may take"),
    maxConnections: hookOptions.shape.maxConnections.describe("connections the gateway keeps open to it"),
    headers: z
      .record(
        z.string(),
        z
          .string()
          .max(4096)
          .regex(/^[^\r\n\0]*$/, "must be one line"),
      )
      .meta({ maxProperties: 32, ...cel([headerNamesRule, plainHeaderRule]) })
      .optional()
      .describe("non-secret headers sent with every call (they land in a ConfigMap in clear)"),
    secretHeaders: z
      .record(z.string(), secretKeyRef)
      .meta({ maxProperties: 32, ...cel([headerNamesRule, uniqueHeadersRule]) })
      .optional()
      .describe("headers whose values come from Secret keys (mounted read-only; never in the ConfigMap)"),
  })
  .meta(cel(hookRules));
export type HookSpec = z.output<typeof hook>;

type NamespaceNames = Record<string, unknown>;
export const namespaceNamesRule: CelRule<NamespaceNames> = {
  rule: `self.all(n, n.matches(${celPattern(NAMESPACE_RE)}))`,
  message:
    "namespace names must be 1-64 of letters, digits, _ - . (the part of a channel before its first :)",
  check: (m) => Object.keys(m).every((n) => NAMESPACE_RE.test(n)),
};

type Options = Pick<NamespaceOptions, "proxySubscribe" | "proxyPublish">;
type NeedsInput = {
  defaultNamespace?: Options | undefined;
  namespaces?: Record<string, Options> | undefined;
  proxy?: { subscribe?: unknown; publish?: unknown } | undefined;
};
// proxySubscribe and proxyPublish are defaulted (false) below, so a rule can read them without has(): has() on a
// map entry's field (self.namespaces[n].x) is valid CEL but not every evaluator takes it.
function needs(
  option: "proxySubscribe" | "proxyPublish",
  hookName: "subscribe" | "publish",
): CelRule<NeedsInput> {
  return {
    rule: `(has(self.proxy) && has(self.proxy.${hookName})) || ((!has(self.defaultNamespace) || !self.defaultNamespace.${option}) && (!has(self.namespaces) || self.namespaces.all(n, !self.namespaces[n].${option})))`,
    message: `a namespace with ${option} needs spec.proxy.${hookName}`,
    check: (s) =>
      s.proxy?.[hookName] !== undefined ||
      ![s.defaultNamespace, ...Object.values(s.namespaces ?? {})].some((o) => o?.[option] === true),
  };
}
/** Spec-level: a namespace that asks the backend needs that hook. */
export const proxyNeedsRules: CelRule<NeedsInput>[] = [
  needs("proxySubscribe", "subscribe"),
  needs("proxyPublish", "publish"),
];

/**
 * The gateway's namespace options (their bounds are its own), described for `kubectl explain`, with the two hook
 * switches defaulted for the CEL rules above.
 */
const o = namespaceOptions.shape;
const crdNamespaceOptions = namespaceOptions.extend({
  historySize: o.historySize.describe(
    "messages kept per channel for recovery; 0: none (default RTGW_HISTORY_SIZE)",
  ),
  historyTtlSeconds: o.historyTtlSeconds.describe(
    "how long an idle channel's history lives (default RTGW_HISTORY_TTL_SECONDS)",
  ),
  recovery: o.recovery.describe("whether a subscribe may resume from history with since (default true)"),
  presence: o.presence.describe("whether subscribers may join presence and ask who is there (default true)"),
  joinLeave: o.joinLeave.describe("whether join/leave frames are sent to subscribers (default true)"),
  publish: o.publish.describe(
    "who may publish: clients (with the token right) or server (the server API only)",
  ),
  subscribe: o.subscribe.describe("who may subscribe: token (with the token right) or anyone connected"),
  proxySubscribe: z.boolean().default(false).describe("ask the subscribe hook before each subscribe"),
  proxyPublish: z.boolean().default(false).describe("pass each client publish through the publish hook"),
});

/** The fields realtimegateway.ts adds to the spec. None set: no config file, today's behaviour. */
export const namespacesSpecFields = {
  namespaces: z
    .record(z.string(), crdNamespaceOptions)
    .meta({ maxProperties: 256, ...cel([namespaceNamesRule]) })
    .optional()
    .describe(
      "channel namespaces by name (chat for chat:42): history, recovery, presence, join/leave, who may publish and subscribe, backend hooks",
    ),
  defaultNamespace: crdNamespaceOptions
    .optional()
    .describe(
      "options of channels with no namespace (and, with undeclaredNamespaces: default, of undeclared ones)",
    ),
  undeclaredNamespaces: z
    .enum(["refuse", "default"])
    .optional()
    .describe(
      "a channel in a namespace not listed: refuse it or give it defaultNamespace's options (default: refuse when namespaces lists any, else default)",
    ),
  proxy: z
    .object(
      Object.fromEntries(HOOKS.map((h) => [h, hook.optional()])) as Record<
        HookName,
        z.ZodOptional<typeof hook>
      >,
    )
    .optional()
    .describe("HTTP hooks from the gateway to the application's backend"),
};

type NamespacesSpec = {
  namespaces?: Record<string, NamespaceOptions> | undefined;
  defaultNamespace?: NamespaceOptions | undefined;
  proxy?: Partial<Record<HookName, HookSpec | undefined>> | undefined;
};

/** The TypeScript twins of every rule above, for a parsed spec: the messages of those it breaks. */
export function namespacesViolations(spec: NamespacesSpec): string[] {
  const out: string[] = [];
  if (spec.namespaces && !namespaceNamesRule.check(spec.namespaces)) out.push(namespaceNamesRule.message);
  for (const r of proxyNeedsRules) if (!r.check(spec)) out.push(r.message);
  for (const [name, h] of Object.entries(spec.proxy ?? {})) {
    if (!h) continue;
    const maps: [HeaderMap | undefined, CelRule<HeaderMap>[]][] = [
      [h.headers, [headerNamesRule, plainHeaderRule]],
      [h.secretHeaders, [headerNamesRule, uniqueHeadersRule]],
    ];
    for (const [m, rules] of maps)
      for (const r of rules) if (m && !r.check(m)) out.push(`proxy.${name}: ${r.message}`);
    for (const r of hookRules) if (!r.check(h)) out.push(`proxy.${name}: ${r.message}`);
  }
  return out;
}

/** Every Secret key the hooks' headers read, with the field that names it (decide.ts checks they exist). */
export function hookSecretRefs(spec: NamespacesSpec): [field: string, ref: SecretKeyRef][] {
  return HOOKS.flatMap((name) =>
    Object.entries(spec.proxy?.[name]?.secretHeaders ?? {}).map(
      ([header, ref]) => [`proxy.${name}.secretHeaders.${header}`, ref] as [string, SecretKeyRef],
    ),
  );
}
