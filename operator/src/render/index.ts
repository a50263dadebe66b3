// Every object a RealtimeGateway owns, rendered purely from the parsed CR. The reconciler applies them in this order
// (config before the pods that read it).
import type { RealtimeGateway } from "../api/realtimegateway.js";
import { renderConfigFileMap } from "./config-file.js";
import { renderConfigMap } from "./configmap.js";
import { renderDeployment } from "./deployment.js";
import { renderIngress } from "./ingress.js";
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
