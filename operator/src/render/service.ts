import type { RealtimeGateway } from "../api/realtimegateway.js";
import { GATEWAY_PORT, METRICS_PORT } from "./configmap.js";
import { names, selectorLabels } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

/**
 * The client-facing Service: WebSocket + HTTP API on spec.service.port, nothing else. The internal port (/metrics,
 * /admin/*) is never on it, so a LoadBalancer exposes only what clients may use.
 */
export function renderService(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(gw, names.service(gw)),
    spec: {
      type: gw.spec.service.type,
      selector: selectorLabels(gw),
      ports: [{ name: "http", port: gw.spec.service.port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/**
 * A headless Service over every pod, ready or not: the autoscaler finds pods to scrape and shed through it, and
 * draining pods stay addressable while they finish. It carries the internal port (metrics, /admin/*).
 */
export function renderHeadlessService(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(gw, names.headlessService(gw)),
    spec: {
      type: "ClusterIP",
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: selectorLabels(gw),
      ports: [
        { name: "http", port: GATEWAY_PORT, targetPort: "http", protocol: "TCP" },
        { name: "metrics", port: METRICS_PORT, targetPort: "metrics", protocol: "TCP" },
      ],
    },
  };
}
