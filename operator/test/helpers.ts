// Shared test plumbing: a fake API server with the CRD, the real client-node against it, and polling.
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { FakeApiServer, type FakeApiServerOptions } from "../../dev-cluster/apiserver/server.js";
import { realtimeGatewayCrd } from "../src/api/crd.js";
import { GROUP, PLURAL, VERSION } from "../src/api/realtimegateway.js";
import { kubeFromConfig } from "../src/runtime/kube.js";

export const quietLog = pino({ level: process.env.RTGW_TEST_LOG ?? "silent" });

export async function fakeCluster(opts: FakeApiServerOptions & { validate?: boolean } = {}) {
  const server = await FakeApiServer.start({ gcDelayMs: 5, ...opts });
  server.registerCrd(realtimeGatewayCrd(), { validate: opts.validate ?? true });
  const kc = server.kubeConfig();
  return { server, kc, kube: kubeFromConfig(kc) };
}

/** Polls `check` until it returns a truthy value (returned) or `timeoutMs` passes (throws with `what`). */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 5000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { sleep } from "../../test-support/wait.js";

/** A RealtimeGateway to create (the CRD's defaults fill what `spec` leaves out). */
export function gatewayCr(name: string, spec: Record<string, unknown>, namespace = "default") {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: "RealtimeGateway", metadata: { name, namespace }, spec };
}

/** Creates the RealtimeGateway `name` through the API server `kc` points at, as `kubectl apply` would. */
export function createGateway(
  kc: KubeConfig,
  name: string,
  spec: Record<string, unknown>,
  namespace = "default",
) {
  return kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    body: gatewayCr(name, spec, namespace),
  });
}
