// The gateway pods' NetworkPolicy: clients may reach the client port only; the internal port (metrics, /admin/*)
// only from the peers spec.networkPolicy.internalFrom names (the operator and Prometheus by default); out, only DNS
// and Redis. A CNI that enforces policies then stops any other pod from draining, scraping or reaching past the gateway.
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { GATEWAY_PORT, METRICS_PORT } from "./configmap.js";
import { names, selectorLabels } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

export function renderNetworkPolicy(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  const np = gw.spec.networkPolicy;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: ownedMetadata(gw, names.networkPolicy(gw)),
    spec: {
      podSelector: { matchLabels: selectorLabels(gw) },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { ports: [{ protocol: "TCP", port: GATEWAY_PORT }] },
        { from: np.internalFrom, ports: [{ protocol: "TCP", port: METRICS_PORT }] },
      ],
      egress: [
        {
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        { ports: np.redisPorts.map((port) => ({ protocol: "TCP", port })) },
      ],
    },
  };
}
