// The fleet's control channel: server API orders (disconnect a user, end a user's subscription) go to every node
// over one Redis pub/sub channel, on a subscriber connection of its own (a busy channel stream never delays them).
// Plain PUBLISH, not SPUBLISH: in Redis Cluster it is broadcast to every node, so any node's subscriber hears it;
// but its answer counts only the receiving node's subscribers, so there every pod listens on, and publishes to,
// the first seed, and the count is the fleet's.
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import type { ControlMessage } from "../broker.js";
import { type Connections, unavailable } from "./connections.js";
import { CONTROL_CHANNEL } from "./keys.js";

const controlPayload = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("disconnect"), user: z.string() }),
  z.object({ kind: z.literal("unsubscribe"), user: z.string(), channel: z.string() }),
]);

/** Parse one control payload; undefined for anything that is not one (never throws: the channel is shared). */
export function decodeControl(text: string): ControlMessage | undefined {
  try {
    const parsed = controlPayload.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export class Control {
  private subscriber: Redis | undefined;
  /** Cluster only: a connection to the node the subscribers listen on (elsewhere the command connection). */
  private publisher: Redis | undefined;

  constructor(
    private readonly connections: Connections,
    private readonly log: Logger,
  ) {}

  /** Listen for control messages; resubscribes on every reconnect (an order sent while away is lost). */
  start(received: (message: ControlMessage) => void): void {
    const target = this.connections.target;
    // Cluster: any node hears a PUBLISH; the first seed is the one listened on.
    const seed = target.mode === "cluster" ? target.seeds[0] : undefined;
    const seedKey = seed ? `${seed.host}:${seed.port}` : undefined;
    const subscriber = this.connections.openSubscriber(seedKey);
    if (seedKey !== undefined) {
      this.publisher = this.connections.openSubscriber(seedKey);
      this.publisher.on("error", (err: Error) =>
        this.log.debug({ err: err.message }, "redis control publisher error"),
      );
    }
    this.subscriber = subscriber;
    subscriber.on("ready", () => {
      subscriber.subscribe(CONTROL_CHANNEL).catch((err: Error) => {
        this.log.warn({ err: err.message }, "control channel subscribe failed; retrying on reconnect");
        subscriber.disconnect(true);
      });
    });
    subscriber.on("error", (err: Error) =>
      this.log.debug({ err: err.message }, "redis control connection error"),
    );
    subscriber.on("message", (channel: string, text: string) => {
      if (channel !== CONTROL_CHANNEL) return;
      const message = decodeControl(text);
      if (message) received(message);
      else this.log.warn({ text: text.slice(0, 200) }, "malformed control message ignored");
    });
  }

  /** Publish an order; resolves with how many nodes were listening. */
  async send(message: ControlMessage): Promise<number> {
    const publisher = this.publisher ?? this.connections.readyCommand();
    if (publisher.status !== "ready") throw unavailable(new Error("the control connection is not ready"));
    try {
      return Number(await publisher.publish(CONTROL_CHANNEL, JSON.stringify(message)));
    } catch (error) {
      throw unavailable(error);
    }
  }

  close(): void {
    this.subscriber?.disconnect();
    this.publisher?.disconnect();
  }
}
