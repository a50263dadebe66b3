// "k6/metrics": Counter, Gauge, Rate, Trend. Declared in the init context (each VU declares the same names; they
// share one metric), added to during iterations; tags are not supported.
import type { MetricType } from "../metrics.js";
import type { VirtualUser } from "../vu.js";
import { refuseArgument } from "./strict.js";

export function metricsModule(vu: VirtualUser): Record<string, unknown> {
  const kind = (type: MetricType) =>
    class {
      readonly name: string;
      private readonly metric;
      constructor(name: string, isTime = false) {
        if (!vu.inInit) throw new Error("metrics must be declared in the init context");
        this.name = name;
        this.metric = vu.run.registry.declare(
          name,
          type,
          type === "trend" || type === "gauge" ? isTime : false,
        );
      }
      add(value: unknown, tags?: unknown): void {
        if (vu.inInit) throw new Error("using metrics in the init context is not supported");
        refuseArgument(`${type} add() tags`, tags);
        const number = typeof value === "boolean" ? Number(value) : value;
        if (typeof number !== "number" || Number.isNaN(number)) {
          throw new TypeError(`"${String(value)}" is an invalid value for metric ${this.name}`);
        }
        vu.run.add(this.metric, number);
      }
    };
  return { Counter: kind("counter"), Gauge: kind("gauge"), Rate: kind("rate"), Trend: kind("trend") };
}
