// An optional Ingress in front of the client Service (spec.ingress): the client port only, never the internal one,
// with TLS at the Ingress when a certificate Secret is named. WebSockets pass through common controllers as is.
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { names } from "./labels.js";
import { ownedMetadata } from "./metadata.js";

export function renderIngress(input: { gateway: RealtimeGateway }) {
  const gw = input.gateway;
  const ing = gw.spec.ingress;
  if (!ing) return undefined;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      ...ownedMetadata(gw, names.ingress(gw)),
      ...(ing.annotations ? { annotations: ing.annotations } : {}),
    },
    spec: {
      ...(ing.className ? { ingressClassName: ing.className } : {}),
      ...(ing.tlsSecretName ? { tls: [{ hosts: [ing.host], secretName: ing.tlsSecretName }] } : {}),
      rules: [
        {
          host: ing.host,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: names.service(gw), port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    },
  };
}
