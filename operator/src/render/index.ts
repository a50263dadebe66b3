// Every object a RealtimeGateway owns, rendered purely from the parsed CR. The reconciler applies them in this order
// (config before the pods that read it).
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { renderConfigFileMap } from "./config-file.js";
import { renderConfigMap } from "./configmap.js";
import { renderDeployment } from "./deployment.js";
import { renderIngress } from "./ingress.js";
import { names } from "./labels.js";
import { renderNetworkPolicy } from "./networkpolicy.js";
import { renderPodDisruptionBudget } from "./pdb.js";
import { renderHeadlessService, renderService } from "./service.js";

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: object[] };
  [field: string]: unknown;
}

export interface RenderInput {
  gateway: RealtimeGateway;
}

export function renderAll(input: RenderInput): RenderedObject[] {
  return [
    renderConfigMap(input),
    ...optional(renderConfigFileMap(input)),
    renderService(input),
    renderHeadlessService(input),
    renderPodDisruptionBudget(input),
    // Before the pods, so none runs unprotected; left out when switched off.
    ...(input.gateway.spec.networkPolicy.enabled ? [renderNetworkPolicy(input)] : []),
    renderDeployment(input),
    ...optional(renderIngress(input)),
  ];
}

const optional = <T>(o: T | undefined): T[] => (o === undefined ? [] : [o]);

/**
 * Every object renderAll emits only for some specs (the others it always emits). When the spec stops rendering one,
 * the reconciler deletes it (controllers/gateway/decide.ts): owner references alone would keep it until the
 * RealtimeGateway itself goes. render.test.ts checks this list against what renderAll emits.
 */
export function optionalObjects(gw: RealtimeGateway): { kind: string; name: string }[] {
  return [
    { kind: "ConfigMap", name: names.configFile(gw) },
    { kind: "NetworkPolicy", name: names.networkPolicy(gw) },
    { kind: "Ingress", name: names.ingress(gw) },
  ];
}

export {
  renderConfigFileMap,
  renderConfigMap,
  renderDeployment,
  renderHeadlessService,
  renderIngress,
  renderNetworkPolicy,
  renderPodDisruptionBudget,
  renderService,
};
