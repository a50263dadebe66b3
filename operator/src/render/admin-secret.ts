// The Secret holding the gateway's RTGW_ADMIN_KEY (key `api-key`): the operator's key for /admin/* (POST /admin/shed
// when rebalancing). Unlike the other owned objects it is created once and never re-rendered: the key is random
// (the reconciler generates it), so applying it again would rotate it under running pods. Owner-referenced, so
// deleting the RealtimeGateway removes it; render/deployment.ts hands it to the pods through a secretKeyRef.
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { ADMIN_SECRET_KEY, names } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

export function renderAdminSecret(gw: RealtimeGateway, key: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: ownedMetadata(gw, names.adminSecret(gw)),
    data: { [ADMIN_SECRET_KEY]: Buffer.from(key).toString("base64") },
  };
}
