// Kubernetes Events, one shape for every controller of the operator: the input (EventInput), the core/v1 body
// (eventBody) and the recorder. The same (object, reason, message) is recorded once per window, so a reconcile
// that keeps failing the same way does not flood the namespace; Events are best effort and never fail a caller.
import type { CoreV1Event } from "@kubernetes/client-node";
import type { Logger } from "./log.js";

export interface EventInput {
  involved: {
    apiVersion: string;
    kind: string;
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string | undefined;
  };
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** Who reports: the controller (`component`) and this operator replica (`instance`, its pod name). */
export interface EventSource {
  component: string;
  instance: string;
}

export function eventBody(e: EventInput, source: EventSource, now: Date): CoreV1Event {
  return {
    metadata: { generateName: `${e.involved.name}.`, namespace: e.involved.namespace },
    involvedObject: e.involved,
    type: e.type,
    reason: e.reason,
    // The API server refuses Event messages over 1 KiB.
    message: e.message.slice(0, 1024),
    source: { component: source.component },
    reportingComponent: source.component,
    reportingInstance: source.instance,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

export interface EventSink {
  createEvent(e: EventInput): Promise<void>;
}

export class EventRecorder {
  private readonly last = new Map<string, number>();

  /** `windowMs` 0 records every Event (the autoscaler's: each one carries the numbers of a distinct scale). */
  constructor(
    private readonly kube: EventSink,
    private readonly log: Pick<Logger, "warn">,
    private readonly windowMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async record(e: EventInput): Promise<void> {
    const key = `${e.involved.uid}\u0000${e.type}\u0000${e.reason}\u0000${e.message}`;
    const t = this.now();
    const prev = this.last.get(key);
    if (prev !== undefined && t - prev < this.windowMs) return;
    if (this.windowMs > 0) this.last.set(key, t);
    if (this.last.size > 10_000) {
      for (const [k, v] of this.last) if (t - v >= this.windowMs) this.last.delete(k);
    }
    try {
      await this.kube.createEvent(e);
    } catch (err) {
      // Events are best effort; losing one must not fail a reconcile.
      this.last.delete(key);
      this.log.warn({ err, reason: e.reason }, "could not record event");
    }
  }
}
