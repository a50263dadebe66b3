// A gateway pod as the kubelet would build it from what the operator renders: the container's environment (envFrom
// ConfigMaps, then env with its secret and field references resolved) and its files (ConfigMap and Secret volumes
// at their mount paths). A reference the test cannot resolve fails instead of being skipped. Shared by the
// operator → gateway contract tests.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { RealtimeGateway } from "../../../operator/src/api/realtimegateway.js";
import { renderAdminSecret } from "../../../operator/src/render/admin-secret.js";
import { CONTAINER_NAME } from "../../../operator/src/render/deployment.js";
import { renderAll } from "../../../operator/src/render/index.js";

export const POD_NAME = "chat-7d9f8b6c4-x2k9q";

const envVar = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .strictObject({
      fieldRef: z.strictObject({ fieldPath: z.literal("metadata.name") }).optional(),
      secretKeyRef: z.strictObject({ name: z.string(), key: z.string() }).optional(),
    })
    .optional(),
});
const configMap = z.object({
  kind: z.literal("ConfigMap"),
  metadata: z.object({ name: z.string() }),
  data: z.record(z.string(), z.string()),
});
const keyToPath = z.strictObject({ key: z.string(), path: z.string() });
const volume = z.object({
  name: z.string(),
  emptyDir: z.object({}).loose().optional(),
  configMap: z
    .object({ name: z.string(), items: z.array(keyToPath).optional(), defaultMode: z.number().optional() })
    .optional(),
  secret: z.object({ secretName: z.string(), defaultMode: z.number().optional() }).optional(),
  projected: z
    .strictObject({
      defaultMode: z.number().optional(),
      sources: z.array(
        z.strictObject({ secret: z.strictObject({ name: z.string(), items: z.array(keyToPath) }) }),
      ),
    })
    .optional(),
});
const deployment = z.object({
  kind: z.literal("Deployment"),
  spec: z.object({
    template: z.object({
      spec: z.object({
        containers: z.array(
          z.object({
            name: z.string(),
            envFrom: z.array(z.strictObject({ configMapRef: z.object({ name: z.string() }) })).default([]),
            env: z.array(envVar).default([]),
            volumeMounts: z
              .array(z.object({ name: z.string(), mountPath: z.string(), readOnly: z.boolean().optional() }))
              .default([]),
          }),
        ),
        volumes: z.array(volume).default([]),
      }),
    }),
  }),
});

/**
 * The gateway container's environment as the kubelet builds it: envFrom first, env over it; a reference the
 * test cannot resolve (another kind of source, a Secret it does not know) fails instead of being skipped.
 */
export function podEnvironment(gw: RealtimeGateway, secrets: Record<string, string>): Record<string, string> {
  const objects = renderAll({ gateway: gw });
  const maps = objects.filter((o) => o.kind === "ConfigMap").map((o) => configMap.parse(o));
  const [pods] = objects.filter((o) => o.kind === "Deployment").map((o) => deployment.parse(o));
  const container = pods?.spec.template.spec.containers.find((c) => c.name === CONTAINER_NAME);
  assert.ok(container, "the Deployment has the gateway container");
  const env: Record<string, string> = {};
  for (const source of container.envFrom) {
    const map = maps.find((m) => m.metadata.name === source.configMapRef.name);
    assert.ok(map, `envFrom names ConfigMap ${source.configMapRef.name}, which the operator does not render`);
    Object.assign(env, map.data);
  }
  for (const variable of container.env) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (from?.fieldRef) env[variable.name] = POD_NAME;
    else if (from?.secretKeyRef) {
      const ref = `${from.secretKeyRef.name}/${from.secretKeyRef.key}`;
      const value = secrets[ref];
      assert.ok(
        value !== undefined,
        `${variable.name} reads Secret key ${ref}, which this test does not know`,
      );
      env[variable.name] = value;
    } else assert.fail(`${variable.name} has neither a value nor a reference this test resolves`);
  }
  return env;
}

/** The admin Secret as the reconciler creates it (a random key), decoded as the kubelet hands it to the pod. */
export function adminSecret(gw: RealtimeGateway): Record<string, string> {
  const secret = z
    .object({ metadata: z.object({ name: z.string() }), data: z.record(z.string(), z.string()) })
    .parse(renderAdminSecret(gw, randomBytes(32).toString("base64url")));
  return Object.fromEntries(
    Object.entries(secret.data).map(([key, b64]) => [
      `${secret.metadata.name}/${key}`,
      Buffer.from(b64, "base64").toString(),
    ]),
  );
}

/**
 * The files the gateway container sees, by absolute path: every ConfigMap and projected-Secret volume at its
 * mount (read-only, as each mount must be). `secrets` holds the Secrets' values as "name/key" → value; TLS and
 * emptyDir volumes hold nothing the configuration reads.
 */
export function podFiles(gw: RealtimeGateway, secrets: Record<string, string>): Record<string, string> {
  const objects = renderAll({ gateway: gw });
  const maps = objects.filter((o) => o.kind === "ConfigMap").map((o) => configMap.parse(o));
  const [pods] = objects.filter((o) => o.kind === "Deployment").map((o) => deployment.parse(o));
  const container = pods?.spec.template.spec.containers.find((c) => c.name === CONTAINER_NAME);
  assert.ok(pods && container, "the Deployment has the gateway container");
  const files: Record<string, string> = {};
  for (const mount of container.volumeMounts) {
    const v = pods.spec.template.spec.volumes.find((x) => x.name === mount.name);
    assert.ok(v, `volumeMount ${mount.name} names no volume`);
    if (v.configMap) {
      assert.equal(mount.readOnly, true, `${mount.name} is mounted read-only`);
      const map = maps.find((m) => m.metadata.name === v.configMap?.name);
      assert.ok(
        map,
        `volume ${v.name} names ConfigMap ${v.configMap.name}, which the operator does not render`,
      );
      const items = v.configMap.items ?? Object.keys(map.data).map((key) => ({ key, path: key }));
      for (const { key, path } of items) {
        const text = map.data[key];
        assert.ok(text !== undefined, `ConfigMap ${map.metadata.name} has no key ${key}`);
        files[`${mount.mountPath}/${path}`] = text;
      }
    }
    for (const source of v.projected?.sources ?? []) {
      assert.equal(mount.readOnly, true, `${mount.name} is mounted read-only`);
      for (const { key, path } of source.secret.items) {
        const value = secrets[`${source.secret.name}/${key}`];
        assert.ok(
          value !== undefined,
          `volume ${v.name} reads Secret key ${source.secret.name}/${key}, unknown here`,
        );
        files[`${mount.mountPath}/${path}`] = value;
      }
    }
  }
  return files;
}

/** A `read` for the gateway's parseConfig over `files` (a missing path throws, as readFileSync would). */
export function reader(files: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return text;
  };
}
