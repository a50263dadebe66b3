// A RealtimeGateway spec with every field set that changes what the operator renders (autoscaling, drain, Redis and
// JWT from Secrets, origins, API key, TLS, ingress, limits, resources, a LoadBalancer): one fixture for the
// operator's golden render test and the operator → gateway configuration contract.
export const FULL_SPEC = {
  image: "ghcr.io/acme/rtgw:2.3.4",
  replicas: 7,
  autoscaling: {
    enabled: true,
    minReplicas: 3,
    maxReplicas: 40,
    targetConnectionsPerPod: 20000,
    tolerance: 0.2,
    scaleUpStabilizationSeconds: 10,
    scaleDownStabilizationSeconds: 600,
  },
  drain: { seconds: 120 },
  redis: { secretRef: { name: "chat-redis", key: "url" } },
  auth: {
    jwtSecretRef: { name: "chat-jwt", key: "hs256" },
    issuer: "https://auth.example.com",
    audience: ["rtgw", "rtgw-eu"],
  },
  allowedOrigins: ["https://app.example.com", "https://*.example.org"],
  apiKeySecretRef: { name: "chat-publish", key: "key" },
  tls: { secretName: "chat-tls" },
  ingress: { host: "rt.example.com", className: "nginx", tlsSecretName: "rt-example-com" },
  limits: { maxConnectionsPerPod: 50000, maxMessageBytes: 131072 },
  resources: { requests: { cpu: "2", memory: "2Gi" }, limits: { memory: "4Gi" } },
  service: { type: "LoadBalancer", port: 443 },
};
