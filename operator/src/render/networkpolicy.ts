// The gateway pods' NetworkPolicy: clients may reach the client port only; the internal port (metrics, /admin/*)
// only from the peers spec.networkPolicy.internalFrom names (the operator and Prometheus by default); out, only DNS,
// Redis and, with spec.auth.jwksUrl, the JWKS URL's port. A CNI that enforces policies then stops any other pod from draining, scraping or reaching past the gateway.
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { GATEWAY_PORT, METRICS_PORT } from "./configmap.js";
import { names, selectorLabels } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

export function renderNetworkPolicy(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  const np = gw.spec.networkPolicy;
  const jwks = jwksPort(gw);
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
        ...(jwks ? [{ ports: [{ protocol: "TCP", port: jwks }] }] : []),
      ],
    },
  };
}

/** The TCP port the gateway fetches its JWKS from (443 unless the URL names one); undefined without a JWKS URL. */
export function jwksPort(gw: RealtimeGateway): number | undefined {
  const url = gw.spec.auth?.jwksUrl;
  return url === undefined ? undefined : Number(new URL(url).port || 443);
}
