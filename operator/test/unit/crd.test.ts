// The generated CRD: structural, defaulted, and its CEL rules doing what they say (evaluated with a real CEL
// evaluator, @marcbachmann/cel-js) and agreeing with their TypeScript twins used at runtime.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { evaluate } from "@marcbachmann/cel-js";
import { parse } from "yaml";
import { makeCrdValidator } from "../../../dev-cluster/apiserver/crd-validator.js";
import { crdYaml, openApiSchema, realtimeGatewayCrd } from "../../src/api/crd.js";
import {
  hookRules,
  namespaceNamesRule,
  plainHeaderRule,
  proxyNeedsRules,
  uniqueHeadersRule,
} from "../../src/api/namespaces.js";
import {
  authRules,
  autoscalingRules,
  DEFAULT_INTERNAL_PEERS,
  parseRealtimeGateway,
  quantityRule,
  redisRules,
  specRules,
} from "../../src/api/realtimegateway.js";

type Node = Record<string, unknown>;

/** Violations of the apiextensions structural-schema rules (a subset that catches generator mistakes). */
function structuralProblems(node: Node, path: string): string[] {
  const out: string[] = [];
  if (node["x-kubernetes-int-or-string"] === true) {
    const anyOf = node.anyOf as Node[] | undefined;
    if (!anyOf?.every((b) => Object.keys(b).length === 1 && (b.type === "integer" || b.type === "string")))
      out.push(`${path}: bad int-or-string`);
    return out;
  }
  if (typeof node.type !== "string") out.push(`${path}: no type`);
  for (const bad of [
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "$ref",
    "$schema",
    "additionalItems",
    "patternProperties",
    "const",
  ]) {
    if (bad in node) out.push(`${path}: ${bad} not allowed here`);
  }
  if (node.properties && node.additionalProperties) out.push(`${path}: properties and additionalProperties`);
  if (
    node.type === "object" &&
    node.default !== undefined &&
    typeof node.default === "object" &&
    Object.keys(node.default as object).length > 0
  ) {
    out.push(`${path}: object default should be {} so nested defaults apply`);
  }
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Node>))
    out.push(...structuralProblems(v, `${path}.${k}`));
  if (node.items) out.push(...structuralProblems(node.items as Node, `${path}[]`));
  if (typeof node.additionalProperties === "object")
    out.push(...structuralProblems(node.additionalProperties as Node, `${path}{}`));
  return out;
}

const validate = makeCrdValidator(openApiSchema() as never);
const base = { image: "ghcr.io/x/rtgw:1", redis: { url: "redis://redis:6379" } };
const object = (spec: unknown) => ({
  apiVersion: "rtgw.dev/v1alpha1",
  kind: "RealtimeGateway",
  metadata: { name: "x" },
  spec,
});

describe("CRD", () => {
  it("has the names, scope, subresources and printer columns", () => {
    const crd = realtimeGatewayCrd();
    const spec = crd.spec as Node & { versions: Node[]; names: Node };
    assert.equal(crd.metadata.name, "realtimegateways.rtgw.dev");
    assert.deepEqual(spec.names, {
      kind: "RealtimeGateway",
      listKind: "RealtimeGatewayList",
      plural: "realtimegateways",
      singular: "realtimegateway",
      shortNames: ["rtgw"],
    });
    assert.equal(spec.scope, "Namespaced");
    const v = spec.versions[0]!;
    assert.equal(v.name, "v1alpha1");
    assert.deepEqual(v.subresources, {
      status: {},
      scale: {
        specReplicasPath: ".spec.replicas",
        statusReplicasPath: ".status.replicas",
        labelSelectorPath: ".status.selector",
      },
    });
    assert.deepEqual(
      (v.additionalPrinterColumns as Node[]).map((c) => c.name),
      ["Replicas", "Ready", "Connections", "Age"],
    );
    const props = (openApiSchema().properties as Record<string, Node>).status!.properties as Record<
      string,
      Node
    >;
    assert.equal(
      props.selector!.type,
      "string",
      "the scale subresource's labelSelectorPath must be a string",
    );
    assert.equal(
      ((openApiSchema().properties as Record<string, Node>).spec!.properties as Record<string, Node>)
        .replicas!.type,
      "integer",
    );
  });

  it("is structural", () => {
    assert.deepEqual(structuralProblems(openApiSchema(), ""), []);
  });

  it("`rtgw crd` output parses back to the same object; the chart's copy is identical", () => {
    assert.deepEqual(parse(crdYaml()), realtimeGatewayCrd());
    const chartCopy = "charts/realtime-gateway/crds/realtimegateways.rtgw.dev.yaml";
    if (existsSync(chartCopy))
      assert.equal(
        readFileSync(chartCopy, "utf8"),
        crdYaml(),
        `${chartCopy} is stale: rtgw crd > ${chartCopy}`,
      );
  });

  it("applies defaults like the API server", () => {
    const r = validate(object(base) as never);
    assert.ok(r.ok);
    const spec = (r.object as { spec: Record<string, unknown> }).spec;
    assert.deepEqual(spec, {
      ...base,
      replicas: 2,
      autoscaling: {
        enabled: true,
        minReplicas: 2,
        maxReplicas: 50,
        targetConnectionsPerPod: 10000,
        tolerance: 0.1,
        scaleUpStabilizationSeconds: 0,
        scaleDownStabilizationSeconds: 300,
        scaleUp: { periodSeconds: 15 },
        scaleDown: { periodSeconds: 15 },
      },
      drain: { seconds: 30 },
      limits: { maxConnectionsPerPod: 100000, maxMessageBytes: 65536 },
      service: { type: "ClusterIP", port: 80 },
      networkPolicy: { enabled: true, internalFrom: DEFAULT_INTERNAL_PEERS, redisPorts: [6379] },
    });
    // What the API server stores, the runtime parser accepts.
    assert.ok(parseRealtimeGateway({ ...r.object, metadata: { name: "x", namespace: "d", uid: "u" } }).ok);
  });

  const table: [string, unknown, boolean, RegExp?][] = [
    ["minimal", base, true],
    [
      "full",
      {
        ...base,
        replicas: 3,
        autoscaling: { minReplicas: 3, maxReplicas: 3, targetConnectionsPerPod: 1 },
        auth: { jwtSecretRef: { name: "j", key: "k" } },
        resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: 2 } },
      },
      true,
    ],
    ["secretRef redis", { image: "x", redis: { secretRef: { name: "r", key: "url" } } }, true],
    [
      "auth by JWKS only",
      { ...base, auth: { jwksUrl: "https://id.example.com/.well-known/jwks.json" } },
      true,
    ],
    [
      "auth by secret and JWKS, with a port",
      { ...base, auth: { jwtSecretRef: { name: "j", key: "k" }, jwksUrl: "https://10.0.0.7:8443/keys" } },
      true,
    ],
    [
      "auth with neither a secret nor a JWKS",
      { ...base, auth: { issuer: "https://id" } },
      false,
      /auth needs/,
    ],
    ["a JWKS over plain http", { ...base, auth: { jwksUrl: "http://id.example.com/jwks" } }, false],
    ["a JWKS URL with credentials", { ...base, auth: { jwksUrl: "https://u:p@id.example.com/jwks" } }, false],
    ["a JWKS URL that is no URL", { ...base, auth: { jwksUrl: "https://" } }, false],
    ["no image", { redis: base.redis }, false],
    ["no redis", { image: "x" }, false],
    [
      "both redis url and secretRef",
      { image: "x", redis: { url: "redis://a", secretRef: { name: "r", key: "u" } } },
      false,
      /exactly one of redis.url/,
    ],
    ["neither redis url nor secretRef", { image: "x", redis: {} }, false, /exactly one of redis.url/],
    [
      "min > max",
      { ...base, autoscaling: { minReplicas: 10, maxReplicas: 5 } },
      false,
      /minReplicas must be <= /,
    ],
    ["min > default max", { ...base, autoscaling: { minReplicas: 60 } }, false, /minReplicas must be <= /],
    ["target 0", { ...base, autoscaling: { targetConnectionsPerPod: 0 } }, false],
    [
      "target above the pod limit",
      { ...base, autoscaling: { targetConnectionsPerPod: 5000 }, limits: { maxConnectionsPerPod: 1000 } },
      false,
      /must not exceed limits/,
    ],
    ["negative replicas", { ...base, replicas: -1 }, false],
    ["fractional replicas", { ...base, replicas: 1.5 }, false],
    ["drain too long", { ...base, drain: { seconds: 7200 } }, false],
    ["tolerance above 1", { ...base, autoscaling: { tolerance: 2 } }, false],
    ["bad service type", { ...base, service: { type: "ExternalName" } }, false],
    ["bad redis scheme", { image: "x", redis: { url: "http://a" } }, false],
    [
      "allowed origins",
      { ...base, allowedOrigins: ["https://app.example.com", "https://*.example.org"] },
      true,
    ],
    ["an origin with a path", { ...base, allowedOrigins: ["https://app.example.com/x"] }, false],
    [
      "issuer and audience",
      { ...base, auth: { jwtSecretRef: { name: "j", key: "k" }, issuer: "i", audience: ["a"] } },
      true,
    ],
    [
      "credentials in redis.url",
      { image: "x", redis: { url: "redis://:hunter2@redis:6379" } },
      false,
      /must not carry credentials.*redis\.secretRef/,
    ],
    [
      "user and password in one of the cluster seeds",
      { image: "x", redis: { url: "redis://a:6379,redis://u:p@b:6379" } },
      false,
      /must not carry credentials/,
    ],
    ["bad quantity", { ...base, resources: { requests: { cpu: "lots" } } }, false],
    ["tiny max message", { ...base, limits: { maxMessageBytes: 10 } }, false],
    [
      "namespaces, default, undeclared and every hook",
      {
        ...base,
        namespaces: {
          chat: { historySize: 100, historyTtlSeconds: 600, presence: true, joinLeave: false },
          "feed.v2": { publish: "server", subscribe: "anyone", recovery: false, proxySubscribe: true },
        },
        defaultNamespace: { historySize: 0, proxyPublish: true },
        undeclaredNamespaces: "default",
        proxy: {
          connect: {
            url: "https://auth.app.svc:8443/rtgw/connect?v=1",
            headers: { "X-Gateway": "rtgw" },
            secretHeaders: { Authorization: { name: "hooks", key: "connect" } },
          },
          subscribe: { url: "http://10.0.0.7:8080/sub", timeoutMs: 250, maxConnections: 8 },
          publish: { url: "http://backend/pub" },
          refresh: { url: "http://backend/refresh" },
        },
      },
      true,
    ],
    ["a namespace name with a colon", { ...base, namespaces: { "chat:x": {} } }, false, /namespace names/],
    ["an unknown publish mode", { ...base, namespaces: { chat: { publish: "anyone" } } }, false],
    [
      "history beyond the gateway's bound",
      { ...base, namespaces: { chat: { historySize: 2_000_000 } } },
      false,
    ],
    ["a zero history TTL", { ...base, defaultNamespace: { historyTtlSeconds: 0 } }, false],
    ["an unknown undeclared mode", { ...base, undeclaredNamespaces: "allow" }, false],
    [
      "proxySubscribe without proxy.subscribe",
      { ...base, namespaces: { chat: { proxySubscribe: true } } },
      false,
      /proxySubscribe needs spec.proxy.subscribe/,
    ],
    [
      "proxyPublish on the default namespace without proxy.publish",
      { ...base, defaultNamespace: { proxyPublish: true }, proxy: { subscribe: { url: "http://b" } } },
      false,
      /proxyPublish needs spec.proxy.publish/,
    ],
    ["a hook URL that is not http(s)", { ...base, proxy: { connect: { url: "ftp://backend/x" } } }, false],
    [
      "credentials in a hook URL",
      { ...base, proxy: { connect: { url: "http://user:pw@backend/x" } } },
      false,
    ],
    ["a hook timeout too short", { ...base, proxy: { connect: { url: "http://b", timeoutMs: 5 } } }, false],
    [
      "a credential in a plain header",
      { ...base, proxy: { publish: { url: "http://b", headers: { Authorization: "Bearer x" } } } },
      false,
      /must come from a Secret: put it in secretHeaders/,
    ],
    [
      "an API key in a plain header",
      { ...base, proxy: { publish: { url: "http://b", headers: { "X-Api-Key": "k" } } } },
      false,
      /secretHeaders/,
    ],
    [
      "a bad header name",
      { ...base, proxy: { publish: { url: "http://b", headers: { "X Gateway": "a" } } } },
      false,
      /header names must be/,
    ],
    [
      "a header both plain and secret",
      {
        ...base,
        proxy: {
          publish: {
            url: "http://b",
            headers: { "x-tenant": "a" },
            secretHeaders: { "X-Tenant": { name: "s", key: "k" } },
          },
        },
      },
      false,
      /in both headers and secretHeaders/,
    ],
    [
      "two secret headers differing in case only",
      {
        ...base,
        proxy: {
          publish: {
            url: "http://b",
            secretHeaders: { "X-A": { name: "s", key: "k" }, "x-a": { name: "s", key: "j" } },
          },
        },
      },
      false,
      /differ in more than case/,
    ],
  ];

  for (const [name, spec, valid, message] of table) {
    it(`${valid ? "accepts" : "rejects"}: ${name}`, () => {
      const r = validate(object(spec) as never);
      assert.equal(r.ok, valid, r.ok ? "accepted" : r.causes.join("; "));
      if (!r.ok && message) assert.match(r.causes.join("; "), message);
      // The runtime parser (what the operator does with a CR that got past the server) agrees.
      const parsed = parseRealtimeGateway({
        ...object(spec),
        metadata: { name: "x", namespace: "d", uid: "u" },
      });
      assert.equal(parsed.ok, valid, parsed.ok ? "parsed" : parsed.message);
    });
  }

  it("every CEL rule agrees with its TypeScript twin", () => {
    const cases = {
      autoscaling: [
        { minReplicas: 1, maxReplicas: 1, targetConnectionsPerPod: 1 },
        { minReplicas: 2, maxReplicas: 1, targetConnectionsPerPod: 1 },
        { minReplicas: 1, maxReplicas: 5, targetConnectionsPerPod: 0 },
      ],
      redis: [
        {},
        { url: "redis://a" },
        { secretRef: { name: "a", key: "b" } },
        { url: "redis://a", secretRef: { name: "a", key: "b" } },
        { url: "redis://user:pw@a:6379" },
        { url: "rediss://:pw@a" },
        { url: "redis://a:6379,redis://b:6379" },
        { url: "redis://a/0?name=x@y" },
      ],
      spec: [
        {
          autoscaling: { targetConnectionsPerPod: 10 },
          limits: { maxConnectionsPerPod: 10 },
          drain: { seconds: 1 },
        },
        {
          autoscaling: { targetConnectionsPerPod: 11 },
          limits: { maxConnectionsPerPod: 10 },
          drain: { seconds: 1 },
        },
      ],
    };
    const ints = (v: unknown): unknown =>
      typeof v === "number"
        ? BigInt(v)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ints(x)]))
          : v;
    const check = <T>(rules: { rule: string; check: (s: T) => boolean }[], values: T[]) => {
      for (const r of rules)
        for (const v of values)
          assert.equal(evaluate(r.rule, { self: ints(v) }), r.check(v), `${r.rule} on ${JSON.stringify(v)}`);
    };
    check(autoscalingRules, cases.autoscaling);
    check(redisRules, cases.redis as never[]);
    check(authRules, [
      {},
      { jwtSecretRef: { name: "a", key: "b" } },
      { jwksUrl: "https://a/k" },
      { jwtSecretRef: { name: "a", key: "b" }, jwksUrl: "https://a/k" },
    ] as never[]);
    check(specRules, cases.spec as never[]);
    check([quantityRule], [1, "500m", "1Gi", "1.5", "lots", "1Gb", "-1"]);
    const ref = { name: "s", key: "k" };
    check([namespaceNamesRule], [
      {},
      { chat: {} },
      { "a.b_c-d": {} },
      { "chat:x": {} },
      { "": {} },
    ] as never[]);
    check([plainHeaderRule, uniqueHeadersRule], [
      {},
      { "X-Gateway": "a" },
      { Authorization: "x" },
      { "X-Auth-Token": "x" },
      { Cookie: "c" },
      { "X-A": "1", "x-a": "2" },
    ] as never[]);
    check(hookRules, [
      {},
      { headers: { "X-A": "1" } },
      { headers: { "X-A": "1" }, secretHeaders: { "X-B": ref } },
      { headers: { "X-A": "1" }, secretHeaders: { "x-a": ref } },
    ] as never[]);
    const off = { proxySubscribe: false, proxyPublish: false };
    const on = { proxySubscribe: true, proxyPublish: true };
    check(proxyNeedsRules, [
      {},
      { namespaces: { a: off } },
      { namespaces: { a: off, b: on } },
      { defaultNamespace: on },
      { defaultNamespace: on, proxy: { subscribe: {}, publish: {} } },
      { defaultNamespace: on, proxy: { subscribe: {} } },
      { namespaces: { a: on }, proxy: { publish: {} } },
    ] as never[]);
  });
});
