// The body of a core/v1 Event, one shape for every controller of the operator (the reconciler and the autoscaler).
import type { CoreV1Event } from "@kubernetes/client-node";

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
