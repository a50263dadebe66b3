// The operator end to end as the fake-API-server tests run it: one fake cluster (bookmarks every 200 ms) and the
// operator against it (no leader election, quick backoff, no periodic resync), set up once for operator.test.ts
// and namespaces.test.ts instead of each writing the start-up again.
import type { KubeConfig } from "@kubernetes/client-node";
import type { FakeApiServer } from "../../dev-cluster/apiserver/server.js";
import { type RunningOperator, startOperator } from "../src/main.js";
import { kubeFromConfig } from "../src/runtime/kube.js";
import { eventually, fakeCluster, quietLog } from "./helpers.js";

export interface OperatorOnFakeCluster {
  server: FakeApiServer;
  kc: KubeConfig;
  /** The running operator; replaced by restart(). */
  op: RunningOperator;
  /** Stops the operator and starts a new one (a failover, an upgrade: it renders from scratch); resolves when ready. */
  restart(): Promise<void>;
  /** Stops the operator, then the fake API server. */
  stop(): Promise<void>;
}

/** Starts the operator against `kc` and waits for its gateway controller to be ready. */
async function startReady(kc: KubeConfig): Promise<RunningOperator> {
  const op = startOperator(
    { leaderElect: false, leaseName: "x", logLevel: "info", metricsPort: 0 },
    { kube: kubeFromConfig(kc), log: quietLog, backoff: { baseMs: 100, maxMs: 800 }, resyncMs: 3_600_000 },
  );
  await eventually("controller ready", () => op.gateway()?.isReady);
  return op;
}

/** A fake cluster with the operator running and ready; `seed` runs against the cluster before the operator starts. */
export async function operatorOnFakeCluster(
  seed: (kc: KubeConfig) => Promise<void> = async () => {},
): Promise<OperatorOnFakeCluster> {
  const { server, kc } = await fakeCluster({ bookmarkIntervalMs: 200 });
  await seed(kc);
  const running: OperatorOnFakeCluster = {
    server,
    kc,
    op: await startReady(kc),
    restart: async () => {
      await running.op.stop();
      running.op = await startReady(kc);
    },
    stop: async () => {
      await running.op.stop();
      await server.stop();
    },
  };
  return running;
}
