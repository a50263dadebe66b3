// Kubernetes Events for what the operator does. The same (object, reason, message) is recorded once per window,
// so a reconcile that keeps failing the same way does not flood the namespace.
import type { EventInput, OperatorKube } from "./kube.js";

export interface EventLogger {
  warn(obj: object, msg?: string): void;
}

export class EventRecorder {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly kube: Pick<OperatorKube, "createEvent">,
    private readonly log: EventLogger,
    private readonly windowMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async record(e: EventInput): Promise<void> {
    const key = `${e.involved.uid}\u0000${e.type}\u0000${e.reason}\u0000${e.message}`;
    const t = this.now();
    const prev = this.last.get(key);
    if (prev !== undefined && t - prev < this.windowMs) return;
    this.last.set(key, t);
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
