import type { RealtimeGateway } from "../api/realtimegateway.js";
import { names, selectorLabels } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

/** At most one gateway pod voluntarily disrupted at a time, so a node drain moves clients gradually. */
export function renderPodDisruptionBudget(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMetadata(gw, names.podDisruptionBudget(gw)),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(gw) },
      // Crash-looping pods must not block node drains.
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}
