// uWS topics reach WebSockets only: SSE streams on a channel are kept here, and the hub publishes through
// `fanOut`, which hands each frame to both (one encode for all WebSockets, one per SSE stream in its encoder).
import type { TemplatedApp } from "uWebSockets.js";

/** What the hub needs of "a topic": uWS's app has it; fanOut adds the SSE streams. */
export interface Topics {
  publish(topic: string, message: string, isBinary: boolean, compress: boolean): boolean;
  numSubscribers(topic: string): number;
}

interface Receiver {
  send(frame: string): number;
}

export class SseTopics {
  private readonly topics = new Map<string, Set<Receiver>>();

  add(topic: string, r: Receiver): void {
    let set = this.topics.get(topic);
    if (!set) {
      set = new Set();
      this.topics.set(topic, set);
    }
    set.add(r);
  }

  remove(topic: string, r: Receiver): void {
    const set = this.topics.get(topic);
    if (set?.delete(r) && set.size === 0) this.topics.delete(topic);
  }

  count(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** A copy is walked: a send may end a stream (slow consumer), which removes it from the set. */
  publish(topic: string, frame: string): void {
    const set = this.topics.get(topic);
    if (set) for (const r of [...set]) r.send(frame);
  }
}

export function fanOut(app: TemplatedApp, sse: SseTopics): Topics {
  return {
    publish(topic, message, isBinary, compress) {
      sse.publish(topic, message);
      return app.publish(topic, message, isBinary, compress);
    },
    numSubscribers: (topic) => app.numSubscribers(topic) + sse.count(topic),
  };
}
