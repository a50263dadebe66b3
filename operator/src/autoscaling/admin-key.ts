// The operator's key for the gateway's /admin/* routes (POST /admin/shed when rebalancing). The gateway reads it
// as RTGW_API_KEY from the Secret `<name>-admin` (key `api-key`), wired by render/deployment.ts through a
// secretKeyRef. The operator creates that Secret, owned by the RealtimeGateway, with a random key, once; pods
// wait for it (the kubelet retries a missing secretKeyRef) and the key never appears in a ConfigMap or a log.
import { randomBytes } from "node:crypto";
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { ADMIN_SECRET_KEY, commonLabels, names, ownerReference } from "../render/labels.js";
import type { AutoscalingKube } from "./kube.js";

export function renderAdminSecret(gw: RealtimeGateway, key: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: names.adminSecret(gw),
      namespace: gw.metadata.namespace,
      labels: commonLabels(gw),
      ownerReferences: [ownerReference(gw)],
    },
    data: { [ADMIN_SECRET_KEY]: Buffer.from(key).toString("base64") },
  };
}

export function newAdminKey(): string {
  return randomBytes(24).toString("base64url");
}

/** The gateway's admin key, creating the Secret first if it is missing. */
export async function ensureAdminKey(kube: AutoscalingKube, gw: RealtimeGateway): Promise<string> {
  const ns = gw.metadata.namespace;
  const name = names.adminSecret(gw);
  const existing = await kube.readSecretKey(ns, name, ADMIN_SECRET_KEY);
  if (existing !== undefined) return existing;
  await kube.createSecret(ns, renderAdminSecret(gw, newAdminKey()));
  // Read back: if another writer won the create race, its key is the one the pods got.
  const key = await kube.readSecretKey(ns, name, ADMIN_SECRET_KEY);
  if (key === undefined) throw new Error(`Secret ${ns}/${name} has no ${ADMIN_SECRET_KEY}`);
  return key;
}
