// Pure render: golden objects for a minimal and a full RealtimeGateway (UPDATE_GOLDEN=1 rewrites them), every spec
// field where it belongs, and no secret value anywhere in plain text.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { canRead, describeFile, fileMode } from "../../../dev-cluster/volume-access.js";
import { FULL_SPEC } from "../../../test-support/full-gateway-spec.js";
import { parseRealtimeGateway, type RealtimeGateway } from "../../src/api/realtimegateway.js";
import { CONFIG_HASH_ANNOTATION, PRE_STOP_SECONDS } from "../../src/render/deployment.js";
import {
  optionalObjects,
  renderAll,
  renderConfigFileMap,
  renderConfigMap,
  renderDeployment,
  renderHeadlessService,
  renderIngress,
  renderNetworkPolicy,
  renderPodDisruptionBudget,
  renderService,
} from "../../src/render/index.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions walk rendered JSON
type Obj = Record<string, any>;

function gateway(name: string, spec: unknown): RealtimeGateway {
  const p = parseRealtimeGateway({
    metadata: { name, namespace: "prod", uid: `uid-${name}`, generation: 1 },
    spec,
  });
  if (!p.ok) throw new Error(p.message);
  return p.gateway;
}

const minimal = gateway("mini", { image: "ghcr.io/acme/rtgw:1.0.0", redis: { url: "redis://redis:6379" } });
const full = gateway("chat", FULL_SPEC);

const hooked = gateway("live", {
  image: "ghcr.io/acme/rtgw:2.3.4",
  redis: { url: "redis://redis:6379" },
  namespaces: {
    chat: { historySize: 200, historyTtlSeconds: 3600, joinLeave: false, proxyPublish: true },
    news: { publish: "server", subscribe: "anyone", presence: false },
  },
  defaultNamespace: { historySize: 0 },
  undeclaredNamespaces: "refuse",
  proxy: {
    connect: {
      url: "http://backend.app:8080/rtgw/connect",
      timeoutMs: 500,
      headers: { "X-Gateway": "rtgw" },
      secretHeaders: { Authorization: { name: "backend-hooks", key: "connect-token" } },
    },
    publish: {
      url: "http://backend.app:8080/rtgw/publish",
      secretHeaders: {
        Authorization: { name: "backend-hooks", key: "publish-token" },
        "X-Signature-Key": { name: "signing", key: "key" },
      },
    },
  },
});

function golden(file: string, value: unknown) {
  const path = new URL(`golden/${file}`, import.meta.url);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, text);
  assert.equal(text, readFileSync(path, "utf8"), `${file} differs (UPDATE_GOLDEN=1 to accept)`);
}

const container = (d: Obj) => d.spec.template.spec.containers[0];
const env = (d: Obj, name: string) => (container(d).env as Obj[]).find((e) => e.name === name);

describe("render", () => {
  it("minimal CR matches its golden objects", () =>
    golden("minimal.golden.json", renderAll({ gateway: minimal })));
  it("full CR matches its golden objects", () => golden("full.golden.json", renderAll({ gateway: full })));

  it("a CR with namespaces and hooks matches its golden objects", () =>
    golden("namespaces.golden.json", renderAll({ gateway: hooked })));

  it("spec.namespaces/proxy: a config-file ConfigMap mounted read-only, RTGW_CONFIG to it, secret headers as files", () => {
    const objects = renderAll({ gateway: hooked }) as Obj[];
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`).slice(0, 2),
      ["ConfigMap/live-config", "ConfigMap/live-config-file"],
      "both ConfigMaps before the pods that read them",
    );
    const file = parse(renderConfigFileMap({ gateway: hooked })!.data["config.yaml"]);
    assert.deepEqual(file.proxy.publish.headerFiles, {
      Authorization: "/etc/rtgw/hooks/publish/Authorization",
      "X-Signature-Key": "/etc/rtgw/hooks/publish/X-Signature-Key",
    });
    assert.deepEqual(file.proxy.connect.headers, { "X-Gateway": "rtgw" });
    assert.equal(renderConfigMap({ gateway: hooked }).data.RTGW_CONFIG, "/etc/rtgw/config/config.yaml");
    const d = renderDeployment({ gateway: hooked }) as Obj;
    assert.deepEqual(
      container(d).volumeMounts.filter((m: Obj) => m.readOnly),
      [
        { name: "config-file", mountPath: "/etc/rtgw/config", readOnly: true },
        { name: "hook-headers", mountPath: "/etc/rtgw/hooks", readOnly: true },
      ],
    );
    const projected = d.spec.template.spec.volumes.find((v: Obj) => v.name === "hook-headers").projected;
    assert.deepEqual(projected.sources, [
      {
        secret: {
          name: "backend-hooks",
          items: [
            { key: "connect-token", path: "connect/Authorization" },
            { key: "publish-token", path: "publish/Authorization" },
          ],
        },
      },
      { secret: { name: "signing", items: [{ key: "key", path: "publish/X-Signature-Key" }] } },
    ]);
    // Without the fields: no file, no variable, no volume (today's pods).
    assert.equal(renderConfigFileMap({ gateway: full }), undefined);
    assert.equal(renderConfigMap({ gateway: full }).data.RTGW_CONFIG, undefined);
    assert.ok(!renderAll({ gateway: minimal }).some((o) => o.metadata.name.endsWith("-config-file")));
    // A change to the file alone rolls the pods.
    const hash = (g: RealtimeGateway) =>
      (renderDeployment({ gateway: g }) as Obj).spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    const edited = gateway("live", {
      ...hooked.spec,
      namespaces: { ...hooked.spec.namespaces, chat: { historySize: 201 } },
    });
    assert.notEqual(hash(edited), hash(hooked));
  });

  it("is pure: same input, same output", () => {
    assert.deepEqual(renderAll({ gateway: full }), renderAll({ gateway: full }));
  });

  it("puts every spec field where it belongs", () => {
    const d = renderDeployment({ gateway: full }) as Obj;
    assert.equal(d.spec.replicas, 7);
    assert.equal(container(d).image, "ghcr.io/acme/rtgw:2.3.4");
    assert.deepEqual(container(d).resources, {
      requests: { cpu: "2", memory: "2Gi" },
      limits: { memory: "4Gi" },
    });
    assert.ok(d.spec.template.spec.terminationGracePeriodSeconds > PRE_STOP_SECONDS + 120);
    assert.deepEqual(container(d).lifecycle.preStop, { sleep: { seconds: PRE_STOP_SECONDS } });
    const cm = renderConfigMap({ gateway: full }) as Obj;
    assert.deepEqual(cm.data, {
      RTGW_PORT: "8080",
      RTGW_METRICS_PORT: "9090",
      RTGW_BROKER: "redis",
      RTGW_AUTH: "jwt",
      RTGW_DRAIN_SECONDS: "120",
      RTGW_MAX_CONNECTIONS: "50000",
      RTGW_MAX_MESSAGE_BYTES: "131072",
      RTGW_JWT_ISSUER: "https://auth.example.com",
      RTGW_JWT_AUDIENCE: "rtgw,rtgw-eu",
      RTGW_ALLOWED_ORIGINS: "https://app.example.com,https://*.example.org",
      RTGW_TLS_CERT_FILE: "/etc/rtgw/tls/tls.crt",
      RTGW_TLS_KEY_FILE: "/etc/rtgw/tls/tls.key",
    });
    assert.deepEqual(container(d).envFrom, [{ configMapRef: { name: "chat-config" } }]);
    assert.deepEqual(env(d, "RTGW_REDIS_URL")!.valueFrom, {
      secretKeyRef: { name: "chat-redis", key: "url" },
    });
    assert.deepEqual(env(d, "RTGW_JWT_SECRET")!.valueFrom, {
      secretKeyRef: { name: "chat-jwt", key: "hs256" },
    });
    assert.deepEqual(env(d, "RTGW_NODE_ID")!.valueFrom, { fieldRef: { fieldPath: "metadata.name" } });
    const svc = renderService({ gateway: full }) as Obj;
    assert.equal(svc.spec.type, "LoadBalancer");
    assert.equal(svc.spec.ports[0].port, 443);
    assert.equal(svc.spec.ports[0].targetPort, "http");
    // Minimal: the URL goes into the ConfigMap, auth is off, defaults fill the rest.
    const mcm = renderConfigMap({ gateway: minimal }) as Obj;
    assert.equal(mcm.data.RTGW_REDIS_URL, "redis://redis:6379");
    assert.equal(mcm.data.RTGW_AUTH, "none");
    assert.equal(env(renderDeployment({ gateway: minimal }) as Obj, "RTGW_JWT_SECRET"), undefined);
  });

  it("two credentials, two ports: the publish key from the user's Secret, the admin key only internal", () => {
    const d = renderDeployment({ gateway: full }) as Obj;
    assert.deepEqual(env(d, "RTGW_API_KEY")!.valueFrom, {
      secretKeyRef: { name: "chat-publish", key: "key" },
    });
    assert.deepEqual(env(d, "RTGW_ADMIN_KEY")!.valueFrom, {
      secretKeyRef: { name: "chat-admin", key: "api-key" },
    });
    const md = renderDeployment({ gateway: minimal }) as Obj;
    assert.equal(env(md, "RTGW_API_KEY"), undefined, "no publish key unless the spec names one");
    assert.ok(env(md, "RTGW_ADMIN_KEY"));
    // The client Service carries only the client port; the headless one also the internal port.
    const svc = renderService({ gateway: full }) as Obj;
    assert.deepEqual(
      svc.spec.ports.map((p: Obj) => p.targetPort),
      ["http"],
    );
    const pods = renderHeadlessService({ gateway: full }) as Obj;
    assert.deepEqual(
      pods.spec.ports.map((p: Obj) => p.targetPort),
      ["http", "metrics"],
    );
  });

  it("a NetworkPolicy: clients to the client port, the internal port only from the named peers, egress DNS and Redis", () => {
    const np = renderNetworkPolicy({ gateway: full }) as Obj;
    assert.deepEqual(np.spec.podSelector, {
      matchLabels: renderDeployment({ gateway: full }).spec.selector.matchLabels,
    });
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
    const [clients, internal] = np.spec.ingress;
    assert.deepEqual(
      clients,
      { ports: [{ protocol: "TCP", port: 8080 }] },
      "from anywhere, to the client port only",
    );
    assert.deepEqual(internal.ports, [{ protocol: "TCP", port: 9090 }]);
    assert.deepEqual(
      internal.from.map((p: Obj) => p.podSelector.matchLabels),
      [
        { "app.kubernetes.io/component": "operator", "app.kubernetes.io/part-of": "realtime-gateway" },
        { "app.kubernetes.io/name": "prometheus" },
      ],
    );
    assert.deepEqual(
      np.spec.egress.flatMap((e: Obj) => e.ports.map((p: Obj) => `${p.protocol}/${p.port}`)),
      ["UDP/53", "TCP/53", "TCP/6379"],
    );
    assert.ok(renderAll({ gateway: full }).some((o) => o.kind === "NetworkPolicy"));
    const off = gateway("off", {
      image: "i:1",
      redis: { url: "redis://r" },
      networkPolicy: { enabled: false },
    });
    assert.ok(!renderAll({ gateway: off }).some((o) => o.kind === "NetworkPolicy"), "switched off: none");
  });

  it("spec.ingress: the client Service's http port only, TLS at the Ingress; none without spec.ingress", () => {
    const ing = renderIngress({ gateway: full }) as Obj;
    assert.equal(ing.spec.ingressClassName, "nginx");
    assert.deepEqual(ing.spec.tls, [{ hosts: ["rt.example.com"], secretName: "rt-example-com" }]);
    assert.deepEqual(ing.spec.rules[0].http.paths[0].backend, {
      service: { name: "chat", port: { name: "http" } },
    });
    assert.equal(renderIngress({ gateway: minimal }), undefined);
    assert.ok(!renderAll({ gateway: minimal }).some((o) => o.kind === "Ingress"));
  });

  it("optionalObjects: exactly the objects renderAll emits for some specs and not for others", () => {
    const everything = gateway("opt", {
      image: "i:1",
      redis: { url: "redis://r" },
      ingress: { host: "rt.example.com" },
      namespaces: { chat: {} },
    });
    const nothing = gateway("opt", {
      image: "i:1",
      redis: { url: "redis://r" },
      networkPolicy: { enabled: false },
    });
    const keys = (gw: RealtimeGateway) =>
      renderAll({ gateway: gw }).map((o) => `${o.kind}/${o.metadata.name}`);
    const optional = optionalObjects(everything).map((o) => `${o.kind}/${o.name}`);
    assert.deepEqual(
      keys(everything).filter((k) => !keys(nothing).includes(k)),
      ["ConfigMap/opt-config-file", "NetworkPolicy/opt", "Ingress/opt"],
    );
    assert.deepEqual(
      [...optional].sort(),
      keys(everything)
        .filter((k) => !keys(nothing).includes(k))
        .sort(),
      "every object only some specs render is listed (the reconciler deletes it when the spec drops it)",
    );
    assert.ok(!keys(nothing).some((k) => optional.includes(k)), "none of them rendered for the bare spec");
  });

  it("spec.auth.jwksUrl: RTGW_JWT_JWKS_URL in the ConfigMap, the secret only when referenced, egress to its port", () => {
    const jwks = (auth: object) =>
      gateway("jw", {
        image: "i:1",
        redis: { url: "redis://r:6379" },
        auth: { issuer: "https://id", ...auth },
      });
    const only = jwks({ jwksUrl: "https://id.example.com/.well-known/jwks.json" });
    const data = renderConfigMap({ gateway: only }).data;
    assert.equal(data.RTGW_AUTH, "jwt");
    assert.equal(data.RTGW_JWT_JWKS_URL, "https://id.example.com/.well-known/jwks.json");
    assert.equal(env(renderDeployment({ gateway: only }) as Obj, "RTGW_JWT_SECRET"), undefined);
    const egress = (gw: RealtimeGateway) =>
      (renderNetworkPolicy({ gateway: gw }) as Obj).spec.egress.slice(2);
    assert.deepEqual(egress(only), [{ ports: [{ protocol: "TCP", port: 443 }] }]);
    const both = jwks({ jwtSecretRef: { name: "j", key: "k" }, jwksUrl: "https://10.0.0.7:8443/keys" });
    assert.deepEqual(env(renderDeployment({ gateway: both }) as Obj, "RTGW_JWT_SECRET")?.valueFrom, {
      secretKeyRef: { name: "j", key: "k" },
    });
    assert.deepEqual(egress(both), [{ ports: [{ protocol: "TCP", port: 8443 }] }]);
    // Without a JWKS URL: no variable, no extra egress.
    assert.equal(renderConfigMap({ gateway: full }).data.RTGW_JWT_JWKS_URL, undefined);
    assert.deepEqual(egress(full), []);
  });

  it("the backend hooks' ports are egress too, each once, with the JWKS URL's (80 for http, 443 for https)", () => {
    const hooked = gateway("hk", {
      image: "i:1",
      redis: { url: "redis://r:6379" },
      auth: { issuer: "https://id", jwksUrl: "https://id.example.com/jwks" },
      defaultNamespace: { proxySubscribe: true },
      proxy: {
        connect: { url: "http://backend.app.svc/rt/connect" },
        subscribe: { url: "http://backend.app.svc:8080/rt/subscribe" },
        refresh: { url: "https://auth.example.com/rt/refresh" },
      },
    });
    const egress = (renderNetworkPolicy({ gateway: hooked }) as Obj).spec.egress.slice(2);
    assert.deepEqual(egress, [
      {
        ports: [
          { protocol: "TCP", port: 80 },
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 8080 },
        ],
      },
    ]);
  });

  it("spec.tls: the Secret mounted read-only, its paths in the ConfigMap, probes over HTTPS", () => {
    const d = renderDeployment({ gateway: full }) as Obj;
    const pod = d.spec.template.spec;
    assert.deepEqual(
      pod.volumes.find((v: Obj) => v.name === "tls"),
      { name: "tls", secret: { secretName: "chat-tls", defaultMode: 0o440 } },
    );
    assert.deepEqual(
      container(d).volumeMounts.find((m: Obj) => m.name === "tls"),
      { name: "tls", mountPath: "/etc/rtgw/tls", readOnly: true },
    );
    assert.equal(container(d).readinessProbe.httpGet.scheme, "HTTPS");
    assert.equal(container(d).livenessProbe.httpGet.scheme, "HTTPS");
    const plain = renderDeployment({ gateway: minimal }) as Obj;
    assert.equal(container(plain).readinessProbe.httpGet.scheme, undefined);
    assert.ok(!plain.spec.template.spec.volumes.some((v: Obj) => v.name === "tls"));
  });

  it("the non-root gateway can read every file it mounts: the TLS key, the hooks' secret headers, the config file", () => {
    const tlsAndHooks = gateway("both", { ...hooked.spec, tls: { secretName: "both-tls" } });
    for (const gw of [full, hooked, tlsAndHooks]) {
      const pod = (renderDeployment({ gateway: gw }) as Obj).spec.template.spec;
      const c = pod.containers[0];
      assert.equal(pod.securityContext.runAsUser, 1000, "non-root, so file modes matter");
      assert.equal(pod.securityContext.fsGroup, 1000);
      assert.equal(pod.securityContext.fsGroupChangePolicy, "OnRootMismatch");
      let files = 0;
      for (const m of c.volumeMounts as Obj[]) {
        const v = (pod.volumes as Obj[]).find((x) => x.name === m.name)!;
        const items: (string | undefined)[] = v.configMap?.items?.map((i: Obj) => i.path) ??
          v.projected?.sources.flatMap((src: Obj) => src.secret.items.map((i: Obj) => i.path)) ?? [undefined];
        for (const path of items) {
          const mode = fileMode(v as never, path);
          if (mode === undefined) continue; // emptyDir: the container's own
          files++;
          assert.ok(
            canRead(mode, pod.securityContext, c.securityContext),
            `${gw.metadata.name}: ${m.mountPath}/${path ?? "*"} (${describeFile(mode, pod.securityContext)}) unreadable by uid 1000`,
          );
        }
      }
      assert.ok(files > 0, `${gw.metadata.name} mounts files`);
    }
    // The Secret files are group-only: readable through the fsGroup, by no other user in the pod.
    const pod = (renderDeployment({ gateway: tlsAndHooks }) as Obj).spec.template.spec;
    const modes = (pod.volumes as Obj[]).map((v) => [v.name, fileMode(v as never)]);
    assert.deepEqual(modes, [
      ["tmp", undefined],
      ["tls", 0o440],
      ["config-file", 0o444],
      ["hook-headers", 0o440],
    ]);
  });

  it("hardens the pod and wires probes, ports, spread and scrape annotations", () => {
    const d = renderDeployment({ gateway: full }) as Obj;
    const pod = d.spec.template.spec;
    const c = container(d);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] });
    assert.equal(c.readinessProbe.httpGet.path, "/readyz");
    assert.equal(c.livenessProbe.httpGet.path, "/healthz");
    assert.deepEqual(
      c.ports.map((p: Obj) => p.name),
      ["http", "metrics"],
    );
    assert.deepEqual(
      pod.topologySpreadConstraints.map((t: Obj) => t.topologyKey),
      ["kubernetes.io/hostname", "topology.kubernetes.io/zone"],
    );
    assert.equal(d.spec.template.metadata.annotations["prometheus.io/scrape"], "true");
    assert.equal(d.spec.template.metadata.annotations["prometheus.io/port"], "9090");
  });

  it("labels, a stable selector and controller owner references on every object", () => {
    for (const o of renderAll({ gateway: full }) as Obj[]) {
      assert.equal(o.metadata.namespace, "prod");
      assert.equal(o.metadata.labels["app.kubernetes.io/instance"], "chat");
      assert.equal(o.metadata.labels["app.kubernetes.io/managed-by"], "rtgw-operator");
      assert.deepEqual(o.metadata.ownerReferences, [
        {
          apiVersion: "rtgw.dev/v1alpha1",
          kind: "RealtimeGateway",
          name: "chat",
          uid: "uid-chat",
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const other = gateway("chat", { image: "other:9", replicas: 1, redis: { url: "redis://x" } });
    assert.deepEqual(
      (renderDeployment({ gateway: other }) as Obj).spec.selector,
      (renderDeployment({ gateway: full }) as Obj).spec.selector,
      "the selector never depends on the spec (it is immutable)",
    );
    assert.deepEqual(
      (renderPodDisruptionBudget({ gateway: full }) as Obj).spec.selector,
      (renderDeployment({ gateway: full }) as Obj).spec.selector,
    );
  });

  it("rolls the pods when the configuration changes", () => {
    const hash = (g: RealtimeGateway) =>
      (renderDeployment({ gateway: g }) as Obj).spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    const changed = gateway("chat", { ...full.spec, limits: { ...full.spec.limits, maxMessageBytes: 1024 } });
    assert.notEqual(hash(changed), hash(full));
    assert.equal(
      hash(gateway("chat", { ...full.spec, replicas: 1 })),
      hash(full),
      "scaling does not roll pods",
    );
  });

  it("never puts a secret value or secret reference content in plain text", () => {
    const text = JSON.stringify(renderAll({ gateway: full }));
    // Only names and keys of Secrets appear, and only inside secretKeyRef.
    assert.equal(JSON.stringify(renderConfigMap({ gateway: full })).includes("chat-redis"), false);
    assert.equal(JSON.stringify(renderConfigMap({ gateway: full })).includes("chat-jwt"), false);
    for (const e of container(renderDeployment({ gateway: full }) as Obj).env as Obj[]) {
      assert.equal(e.value, undefined, `${e.name} must come from a reference, not a literal`);
    }
    assert.ok(!/password|:\/\/[^@"]*:[^@"]*@/.test(text), "no credentials in URLs");
    // The hooks' Secrets appear only as volume sources, never in a ConfigMap.
    const configMaps = JSON.stringify(renderAll({ gateway: hooked }).filter((o) => o.kind === "ConfigMap"));
    assert.ok(!configMaps.includes("backend-hooks") && !configMaps.includes("connect-token"));
  });
});
