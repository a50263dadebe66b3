// The operator's key for the gateway's /admin/* routes (POST /admin/shed when rebalancing), read from the Secret
// `<name>-admin` (key `api-key`) that the reconciler creates (render/admin-secret.ts) and the pods get as
// RTGW_ADMIN_KEY. The autoscaler only reads it, when it sheds, so a recreated Secret is picked up; it never logs it.
import type { RealtimeGateway } from "../../api/realtimegateway.js";
import { ADMIN_SECRET_KEY, names } from "../../render/labels.js";
import type { Kube } from "../../runtime/kube.js";

/** The gateway's admin key, or undefined while the reconciler has not created its Secret yet. */
export function readAdminKey(
  kube: Pick<Kube, "readSecretKey">,
  gw: RealtimeGateway,
): Promise<string | undefined> {
  return kube.readSecretKey(gw.metadata.namespace, names.adminSecret(gw), ADMIN_SECRET_KEY);
}
