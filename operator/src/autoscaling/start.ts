// How the operator's main starts the autoscaling controller (under the same leader election as the reconciler):
//   const autoscaling = startAutoscaling({ kubeConfig, namespace, logger });   // on becoming leader
//   await autoscaling.stop();                                                  // on losing the Lease / shutdown
// Tunables come from the environment (RTGW_AUTOSCALER_*, RTGW_REBALANCE_*), parsed with zod; the defaults suit a
// real cluster, the e2e run shortens them.
import type { KubeConfig } from "@kubernetes/client-node";
import { AutoscalingController, type AutoscalingControllerOptions, type Logger } from "./controller.js";
import { kubeFromConfig } from "./kube.js";
import { autoscalingSettingsFromEnv } from "./settings.js";

export interface StartAutoscalingOptions {
  kubeConfig: KubeConfig;
  namespace?: string | undefined;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  onDecision?: AutoscalingControllerOptions["onDecision"];
}

export function startAutoscaling(o: StartAutoscalingOptions): { stop(): Promise<void> } {
  const settings = autoscalingSettingsFromEnv(o.env ?? process.env);
  const controller = new AutoscalingController({
    kube: kubeFromConfig(o.kubeConfig),
    namespace: o.namespace,
    logger: o.logger,
    intervalMs: settings.intervalMs,
    scrapeTimeoutMs: settings.scrapeTimeoutMs,
    rebalance: settings.rebalance,
    onDecision: o.onDecision,
  });
  controller.start();
  return { stop: () => controller.stop() };
}
