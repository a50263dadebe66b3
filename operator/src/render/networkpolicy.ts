// The gateway pods' NetworkPolicy: clients may reach the client port only; the internal port (metrics, /admin/*)
// only from the peers spec.networkPolicy.internalFrom names (the operator and Prometheus by default); out, only DNS,
// Redis, and the ports of the URLs the gateway calls itself (spec.auth.jwksUrl, the spec.proxy hooks). A CNI that
// enforces policies then stops any other pod from draining, scraping or reaching past the gateway.
import { HOOKS } from "../api/namespaces.js";
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { GATEWAY_PORT, METRICS_PORT } from "./configmap.js";
import { names, selectorLabels } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

export function renderNetworkPolicy(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  const np = gw.spec.networkPolicy;
  const called = calledPorts(gw);
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
        ...(called.length > 0 ? [{ ports: called.map((port) => ({ protocol: "TCP", port })) }] : []),
      ],
    },
  };
}

/**
 * The TCP ports of the URLs the gateway calls (the JWKS URL and every backend hook), each once, in order: a URL's
 * own port, else 443 for https and 80 for http. A NetworkPolicy names ports, not hosts (its ipBlock takes CIDRs,
 * and a hook is a DNS name), so the peer stays open and the port is what is narrowed.
 */
export function calledPorts(gw: RealtimeGateway): number[] {
  const urls = [gw.spec.auth?.jwksUrl, ...HOOKS.map((h) => gw.spec.proxy?.[h]?.url)];
  const ports = urls.flatMap((url) => {
    if (url === undefined) return [];
    const u = new URL(url);
    return [Number(u.port || (u.protocol === "https:" ? 443 : 80))];
  });
  return [...new Set(ports)].sort((a, b) => a - b);
}
