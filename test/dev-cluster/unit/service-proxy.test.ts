// serviceEndpoints: what a Service balances over, as the EndpointSlice controller decides it.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../../dev-cluster/kube-rest.js";
import { serviceEndpoints } from "../../../dev-cluster/service-proxy.js";

const svc = (spec: Record<string, unknown>): KubeObject => ({
  metadata: { name: "s", namespace: "n" },
  spec,
});
const pod = (
  name: string,
  o: { ip?: string; ready?: boolean; labels?: Record<string, string>; deleting?: boolean },
) =>
  ({
    metadata: {
      name,
      labels: o.labels ?? { app: "gw" },
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { containers: [{ ports: [{ name: "http", containerPort: 8080 }] }] },
    status: {
      ...(o.ip ? { podIP: o.ip } : {}),
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  }) as unknown as KubeObject;

const pods = [
  pod("ready", { ip: "127.0.10.2" }),
  pod("unready", { ip: "127.0.10.3", ready: false }),
  pod("other-app", { ip: "127.0.10.4", labels: { app: "x" } }),
  pod("no-ip", {}),
  pod("terminating", { ip: "127.0.10.5", deleting: true }),
];

test("ready, selected, not terminating pods; the named targetPort resolved", () => {
  const s = svc({ selector: { app: "gw" }, ports: [{ port: 80, targetPort: "http" }] });
  assert.deepEqual(serviceEndpoints(s, pods), [{ ip: "127.0.10.2", port: 8080 }]);
});

test("publishNotReadyAddresses includes unready pods; a numeric targetPort is used as is", () => {
  const s = svc({
    selector: { app: "gw" },
    publishNotReadyAddresses: true,
    ports: [{ port: 80, targetPort: 9000 }],
  });
  assert.deepEqual(
    serviceEndpoints(s, pods).map((e) => e.ip),
    ["127.0.10.2", "127.0.10.3"],
  );
  assert.equal(serviceEndpoints(s, pods)[0]?.port, 9000);
});

test("no selector or no port: no endpoints", () => {
  assert.deepEqual(serviceEndpoints(svc({ ports: [{ port: 80 }] }), pods), []);
  assert.deepEqual(serviceEndpoints(svc({ selector: { app: "gw" } }), pods), []);
});
