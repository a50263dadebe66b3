// The contract between the operator and the gateway for spec.namespaces / spec.proxy: the RTGW_CONFIG file the
// operator renders (a ConfigMap mounted into the pod, the hooks' secret headers mounted from their Secrets) is
// accepted by the gateway's own parser (parseConfigFile, then parseConfig with the pod's files) and means what the
// spec says: each namespace's options, the default namespace, what happens to an undeclared one, each hook's URL,
// timeout, pool and headers with the Secret values in them. Then the property: for arbitrary specs, the API
// server's verdict (the CRD's OpenAPI schema and CEL rules, as dev-cluster's validator applies them) and the
// operator's runtime parser agree, and every spec the API server admits renders a file the gateway accepts and
// reads as the spec means, so an admitted CR never renders pods that exit 2.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { makeCrdValidator } from "../../../dev-cluster/apiserver/crd-validator.js";
import { type GatewayConfig, parseConfig } from "../../../gateway/src/config.js";
import { parseConfigFile } from "../../../gateway/src/namespaces/config-file.js";
import type { NamespaceOptions } from "../../../gateway/src/namespaces/schema.js";
import { openApiSchema } from "../../../operator/src/api/crd.js";
import { HOOK_URL_RE, HOOKS } from "../../../operator/src/api/namespaces.js";
import { parseRealtimeGateway, type RealtimeGateway } from "../../../operator/src/api/realtimegateway.js";
import { CONFIG_FILE_KEY, renderConfigFileMap } from "../../../operator/src/render/config-file.js";
import { TODAYS_NAMESPACE_OPTIONS as TODAY } from "../../../test-support/namespace-defaults.js";
import { adminSecret, podEnvironment, podFiles, reader } from "../support/pod.js";

const BASE = { image: "ghcr.io/acme/rtgw:2.3.4", redis: { url: "redis://redis:6379" } };
const SECRET_NAMES = ["hooks", "signing"];
const SECRET_KEYS = ["connect", "publish", "key"];
/** Every Secret key a spec may name here, with a value as a header would carry it. */
const SECRETS = Object.fromEntries(
  SECRET_NAMES.flatMap((n) => SECRET_KEYS.map((k) => [`${n}/${k}`, `Bearer ${n}.${k}.s3cret`])),
);

const FULL = {
  ...BASE,
  namespaces: {
    chat: { historySize: 200, historyTtlSeconds: 3600, joinLeave: false, proxyPublish: true },
    news: { publish: "server", subscribe: "anyone", presence: false, recovery: false },
    ephemeral: { historySize: 0, recovery: true },
  },
  defaultNamespace: { historySize: 10, proxySubscribe: true },
  proxy: {
    connect: {
      url: "http://backend.app:8080/rtgw/connect",
      timeoutMs: 500,
      headers: { "X-Gateway": "rtgw" },
      secretHeaders: { Authorization: { name: "hooks", key: "connect" } },
    },
    subscribe: { url: "https://10.0.0.7:8443/sub?v=2", maxConnections: 8 },
    publish: {
      url: "http://backend.app:8080/rtgw/publish",
      secretHeaders: {
        Authorization: { name: "hooks", key: "publish" },
        "X-Signature-Key": { name: "signing", key: "key" },
      },
    },
  },
};

const validate = makeCrdValidator(openApiSchema() as never);
const object = (spec: unknown) => ({
  apiVersion: "rtgw.dev/v1alpha1",
  kind: "RealtimeGateway",
  metadata: { name: "chat", namespace: "prod", uid: "u-1" },
  spec,
});

function gateway(spec: unknown): RealtimeGateway {
  const parsed = parseRealtimeGateway(object(spec));
  if (!parsed.ok) throw new Error(`the operator refuses this RealtimeGateway: ${parsed.message}`);
  return parsed.gateway;
}

/** The gateway's configuration as a pod the operator rendered would parse it (env and mounted files). */
function gatewayConfig(gw: RealtimeGateway): GatewayConfig {
  const secrets = { ...SECRETS, ...adminSecret(gw) };
  const env = podEnvironment(gw, secrets);
  const parsed = parseConfig(env, reader(podFiles(gw, secrets)));
  assert.ok(parsed.ok, `the gateway refuses what the operator renders: ${JSON.stringify(parsed)}`);
  assert.deepEqual(parsed.unknown, [], "every rendered RTGW_* (RTGW_CONFIG included) is the gateway's");
  return parsed.config;
}

function assertNamespace(config: GatewayConfig, channel: string, options: NamespaceOptions): void {
  const got = config.namespaces.of(channel);
  assert.ok(got.ok, `${channel}: ${got.ok ? "" : got.message}`);
  const historySize = options.historySize ?? config.historySize;
  assert.deepEqual(
    { ...got.namespace, name: undefined },
    {
      name: undefined,
      ...TODAY,
      historySize,
      historyTtlSeconds: options.historyTtlSeconds ?? config.historyTtlSeconds,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
      // No history, nothing to recover from: the gateway says so whatever the option.
      recovery: (options.recovery ?? true) && historySize > 0,
    },
    channel,
  );
}

/** What the spec means, read back from the gateway's parsed configuration. */
function assertMeans(gw: RealtimeGateway, config: GatewayConfig): void {
  const { spec } = gw;
  for (const [name, options] of Object.entries(spec.namespaces ?? {}))
    assertNamespace(config, `${name}:42`, options);
  assertNamespace(config, "lobby", spec.defaultNamespace ?? {});
  // An undeclared namespace: as spec.undeclaredNamespaces says; left out, refused only when namespaces lists any
  // (so a spec with only hooks keeps every channel working, as today).
  const undeclared = "not-declared-anywhere-in-this-spec";
  assert.ok(!Object.hasOwn(spec.namespaces ?? {}, undeclared));
  const declaresAny = Object.keys(spec.namespaces ?? {}).length > 0;
  const mode = spec.undeclaredNamespaces ?? (declaresAny ? "refuse" : "default");
  if (mode === "refuse") assert.equal(config.namespaces.of(`${undeclared}:1`).ok, false);
  else assertNamespace(config, `${undeclared}:1`, spec.defaultNamespace ?? {});
  for (const hook of HOOKS) {
    const h = spec.proxy?.[hook];
    const got = config.proxy[hook];
    if (!h) {
      assert.equal(got, undefined, `proxy.${hook} is not in the spec`);
      continue;
    }
    const secretValues = Object.fromEntries(
      Object.entries(h.secretHeaders ?? {}).map(([header, ref]) => [
        header,
        SECRETS[`${ref.name}/${ref.key}`],
      ]),
    );
    assert.deepEqual(
      got && {
        url: got.url,
        timeoutMs: got.timeoutMs,
        maxConnections: got.maxConnections,
        headers: got.headers,
      },
      {
        url: h.url,
        timeoutMs: h.timeoutMs,
        maxConnections: h.maxConnections,
        headers: { ...h.headers, ...secretValues },
      },
      `proxy.${hook}`,
    );
  }
}

// Arbitrary specs: mostly inside the bounds, sometimes just outside, so both verdicts occur.
const inOrOut = (min: number, max: number) =>
  fc.oneof(
    { weight: 30, arbitrary: fc.integer({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1) },
  );
const rarely = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 30, arbitrary: usual }, { weight: 1, arbitrary: odd });
const options = fc.record(
  {
    historySize: inOrOut(0, 1_000_000),
    historyTtlSeconds: inOrOut(1, 31 * 24 * 3600),
    recovery: fc.boolean(),
    presence: fc.boolean(),
    joinLeave: fc.boolean(),
    publish: rarely(fc.constantFrom("clients", "server"), fc.constant("anyone")),
    subscribe: rarely(fc.constantFrom("token", "anyone"), fc.constant("nobody")),
    proxySubscribe: rarely(fc.constant(false), fc.constant(true)),
    proxyPublish: rarely(fc.constant(false), fc.constant(true)),
  },
  { requiredKeys: [] },
);
const namespaceName = rarely(
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/),
  fc.constantFrom("chat:x", "a b", "x".repeat(65)),
);
// A few names recur (in either case), so the same header lands twice in a map, or in both maps of a hook.
const headerName = fc.oneof(
  { weight: 12, arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{1,16}$/) },
  { weight: 2, arbitrary: fc.constantFrom("X-Tenant", "x-tenant", "X-TENANT") },
  {
    weight: 1,
    arbitrary: fc.constantFrom("Authorization", "X-Api-Key", "Cookie", "X-Auth-Token", "bad name"),
  },
);
const hook = fc.record(
  {
    url: rarely(
      fc.stringMatching(HOOK_URL_RE),
      fc.constantFrom("ftp://backend/x", "http://user:pw@backend/x", "http://1.2.3.999/", "backend:8080"),
    ),
    timeoutMs: inOrOut(10, 60_000),
    maxConnections: inOrOut(1, 1024),
    headers: fc.dictionary(headerName, rarely(fc.string({ maxLength: 40 }), fc.constant("two\nlines")), {
      maxKeys: 3,
    }),
    secretHeaders: fc.dictionary(
      headerName,
      fc.record({ name: fc.constantFrom(...SECRET_NAMES), key: fc.constantFrom(...SECRET_KEYS) }),
      { maxKeys: 3 },
    ),
  },
  { requiredKeys: ["url"] },
);
const spec = fc.record(
  {
    namespaces: fc.dictionary(namespaceName, options, { maxKeys: 4 }),
    defaultNamespace: options,
    undeclaredNamespaces: rarely(fc.constantFrom("refuse", "default"), fc.constant("allow")),
    proxy: fc.record({ connect: hook, subscribe: hook, publish: hook, refresh: hook }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

describe("operator → gateway config file contract", () => {
  it("a full spec: the file is the gateway's, accepted, and means what the spec says", () => {
    const gw = gateway(FULL);
    const text = renderConfigFileMap({ gateway: gw })?.data[CONFIG_FILE_KEY];
    assert.ok(text, "a file is rendered");
    const direct = parseConfigFile("config.yaml", text);
    assert.ok(direct.ok, direct.ok ? "" : direct.errors.join("\n"));
    assert.ok(!text.includes("s3cret"), "no Secret value in the file");
    const config = gatewayConfig(gw);
    assertMeans(gw, config);
    // Spot checks, so a wrong helper above could not hide a wrong file.
    const chat = config.namespaces.of("chat:1");
    assert.ok(chat.ok && chat.namespace.historySize === 200 && chat.namespace.proxyPublish);
    assert.equal(config.namespaces.of("other:1").ok, false, "namespaces listed: undeclared ones refused");
    assert.equal(config.proxy.publish?.headers["X-Signature-Key"], "Bearer signing.key.s3cret");
  });

  it("only hooks: every channel keeps today's options, undeclared namespaces included", () => {
    const gw = gateway({ ...BASE, proxy: { connect: { url: "http://backend/connect" } } });
    const config = gatewayConfig(gw);
    assertMeans(gw, config);
    assert.ok(config.namespaces.of("chat:42").ok);
  });

  it("no namespaces or hooks: no RTGW_CONFIG, the gateway's defaults", () => {
    const gw = gateway(BASE);
    assert.equal(podEnvironment(gw, { ...SECRETS, ...adminSecret(gw) }).RTGW_CONFIG, undefined);
    const config = gatewayConfig(gw);
    assert.equal(config.configFile, undefined);
    assertMeans(gw, config);
  });

  it("property: the API server and the operator agree, and every admitted spec renders a file the gateway reads as meant", () => {
    let admitted = 0;
    let refused = 0;
    fc.assert(
      fc.property(spec, (fields) => {
        const raw = { ...BASE, ...fields };
        const verdict = validate(object(raw) as never);
        const parsed = parseRealtimeGateway(
          verdict.ok ? { ...verdict.object, metadata: object(raw).metadata } : object(raw),
        );
        assert.equal(
          parsed.ok,
          verdict.ok,
          `the API server ${verdict.ok ? "admits" : `refuses (${verdict.causes.join("; ")})`} but the operator ${parsed.ok ? "accepts" : `refuses (${parsed.message})`}`,
        );
        if (!parsed.ok) {
          refused++;
          return;
        }
        admitted++;
        assertMeans(parsed.gateway, gatewayConfig(parsed.gateway));
      }),
      { numRuns: 400, seed: Number(process.env.FC_SEED ?? 15) },
    );
    // Both verdicts happened often enough for the property to say something.
    assert.ok(admitted >= 100 && refused >= 100, `admitted ${admitted}, refused ${refused}`);
    if (process.env.FC_VERBOSE) console.log(`admitted ${admitted}, refused ${refused}`);
  });
});
