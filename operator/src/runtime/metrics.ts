// The operator's own Prometheus metrics, in one registry served on /metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function operatorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "rtgw_operator_" });
  return {
    registry,
    reconciles: new Counter({
      name: "rtgw_operator_reconciles_total",
      help: "RealtimeGateway reconciles, by result",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: "rtgw_operator_reconcile_errors_total",
      help: "reconciles that failed and were requeued with backoff",
      registers: [registry],
    }),
    duration: new Histogram({
      name: "rtgw_operator_reconcile_duration_seconds",
      help: "time per reconcile",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "rtgw_operator_workqueue_depth",
      help: "keys waiting in the work queue",
      registers: [registry],
    }),
    writes: new Counter({
      name: "rtgw_operator_api_writes_total",
      help: "objects written to the API server, by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    leader: new Gauge({
      name: "rtgw_operator_leader",
      help: "1 while this replica holds the leader Lease",
      registers: [registry],
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof operatorMetrics>;
