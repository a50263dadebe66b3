// The rolling deploy at full load: changes the RealtimeGateway's spec.image (a new release), which the operator
// renders into the Deployment's pod template, then watches the pod simulator replace every pod with the strategy
// the operator rendered. Records which pods were old, how each one ended, and when the last one was gone; the
// figures and checks are rollout-report.ts's.

import { type RollingUpdateStrategy, rollingUpdateLimits } from "../../dev-cluster/deployment-rollout.js";
import type { KubeRest } from "../../dev-cluster/kube-rest.js";
import { collection } from "../../dev-cluster/kube-rest.js";
import { type PodEvent, templateHash } from "../../dev-cluster/pod-simulator.js";
import type { OldPod, RolloutFacts } from "./rollout-report.js";

type RunningPod = { pod: string; terminating: boolean; ready: boolean };

interface DeploymentSpec {
  replicas?: number;
  minReadySeconds?: number;
  strategy?: { rollingUpdate?: RollingUpdateStrategy };
  template: Parameters<typeof templateHash>[0] & { spec: { containers: { image?: string }[] } };
}

export interface RolloutInput {
  rest: KubeRest;
  running: () => RunningPod[];
  namespace: string;
  /** The RealtimeGateway (and its Deployment) name. */
  name: string;
  at: () => number;
  log: (line: string) => void;
  timeoutSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pod exits as the simulator reports them, kept from the start so no old pod's end is missed. */
export function recordExits(at: () => number) {
  const exits = new Map<string, { at: number; code: number | null; signal: string | null }>();
  return {
    exits,
    onPodEvent(e: PodEvent) {
      if (e.kind === "exited") exits.set(e.pod, { at: at(), code: e.code, signal: e.signal });
    },
  };
}

export async function rollOut(
  o: RolloutInput,
  exits: ReturnType<typeof recordExits>["exits"],
): Promise<RolloutFacts> {
  const deploymentPath = `${collection("apps/v1", "deployments", o.namespace)}/${o.name}`;
  const gatewayPath = `${collection("rtgw.dev/v1alpha1", "realtimegateways", o.namespace)}/${o.name}`;
  const deployment = async () => {
    const d = await o.rest.get(deploymentPath);
    if (!d) throw new Error(`rollout: deployment ${o.name} not found`);
    return d.spec as unknown as DeploymentSpec;
  };
  const before = await deployment();
  const oldHash = templateHash(before.template);
  const oldImage = before.template.spec.containers[0]?.image ?? "";
  const image = `${oldImage}-next`;
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  const from = o.at();
  // The pod-template-hash is in every pod's name (pod-simulator.ts), as on a real ReplicaSet's pods.
  const old = o.running().filter((p) => !p.terminating && p.pod.includes(`-${oldHash}-`));
  o.log(`t=${from}s rollout: spec.image ${oldImage} -> ${image} over ${old.length} pod(s)`);
  await o.rest.mergePatch(gatewayPath, { spec: { image } });

  let rendered = await deployment();
  while (rendered.template.spec.containers[0]?.image !== image) {
    if (Date.now() > deadline) throw new Error("rollout: the operator never rendered the new image");
    await sleep(200);
    rendered = await deployment();
  }
  const newHash = templateHash(rendered.template);
  const replicas = rendered.replicas ?? 1;
  const limits = rollingUpdateLimits(rendered.strategy?.rollingUpdate, replicas);
  const minReadySeconds = rendered.minReadySeconds ?? 0;
  o.log(
    `t=${o.at()}s rollout: template ${oldHash} -> ${newHash}, maxSurge ${limits.maxSurge}, maxUnavailable ${limits.maxUnavailable} of ${replicas}, minReadySeconds ${minReadySeconds}`,
  );

  let to: number | undefined;
  while (Date.now() < deadline) {
    const live = o.running().filter((p) => !p.terminating);
    const want = (await deployment()).replicas ?? 1;
    const done =
      old.every((p) => exits.has(p.pod)) &&
      live.length >= want &&
      live.every((p) => p.ready && p.pod.includes(`-${newHash}-`));
    if (done) {
      to = o.at();
      break;
    }
    await sleep(250);
  }
  o.log(
    `t=${o.at()}s rollout: ${to === undefined ? "NOT finished by the deadline" : `done in ${to - from} s`}`,
  );
  const oldPods: OldPod[] = old.map((p) => {
    const e = exits.get(p.pod);
    return { pod: p.pod, exitedAt: e?.at, code: e?.code ?? null, signal: e?.signal ?? null };
  });
  return {
    from,
    to,
    maxSurge: limits.maxSurge,
    maxUnavailable: limits.maxUnavailable,
    minReadySeconds,
    replicas,
    oldPods,
  };
}
