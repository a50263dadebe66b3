// The metadata block every owned object carries: its name, the gateway's namespace, the common labels and the
// controller owner reference (so garbage collection removes it with the RealtimeGateway).
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { commonLabels, type OwnerReference, ownerReference } from "./labels.js";

export interface OwnedMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: OwnerReference[];
}

export function ownedMetadata(gw: RealtimeGateway, name: string): OwnedMetadata {
  return {
    name,
    namespace: gw.metadata.namespace,
    labels: commonLabels(gw),
    ownerReferences: [ownerReference(gw)],
  };
}
