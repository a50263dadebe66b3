// Shared by the Redis broker tests: a broker on a test Redis with an event recorder.
import pino from "pino";
import { Registry } from "prom-client";
import type {
  Broker,
  BrokerEvents,
  BrokerMessage,
  Position,
  PresenceEvent,
} from "../../src/broker/broker.js";
import { createRedisBroker, type RedisBrokerOptions } from "../../src/broker/redis/index.js";

export interface Recorder {
  events: BrokerEvents;
  messages: BrokerMessage[];
  batches: number;
  health: boolean[];
  resyncs: Array<{ channel: string; position: Position }>;
  presence: PresenceEvent[];
  /** Messages and resyncs of one channel in the order the broker emitted them. */
  timeline(channel: string): Array<number | string>;
}

export function recorder(): Recorder {
  const order: Array<{ channel: string; item: number | string }> = [];
  const r: Recorder = {
    messages: [],
    batches: 0,
    health: [],
    resyncs: [],
    presence: [],
    events: {
      message(batch) {
        r.batches++;
        for (const m of batch) {
          r.messages.push(m);
          order.push({ channel: m.channel, item: m.offset });
        }
      },
      health(healthy) {
        r.health.push(healthy);
      },
      presence(event) {
        r.presence.push(event);
      },
      resync(channel, position) {
        r.resyncs.push({ channel, position });
        order.push({ channel, item: `resync@${position.offset}` });
      },
    },
    timeline: (channel) => order.filter((o) => o.channel === channel).map((o) => o.item),
  };
  return r;
}

let nodeSeq = 0;

export async function startBroker(
  url: string,
  overrides: Partial<RedisBrokerOptions> = {},
): Promise<{ broker: Broker; rec: Recorder; registry: Registry; nodeId: string }> {
  const registry = new Registry();
  const nodeId = overrides.nodeId ?? `node-${process.pid}-${++nodeSeq}`;
  const broker = createRedisBroker({
    url,
    nodeId,
    historySize: 100,
    historyTtlSeconds: 300,
    logger: pino({ level: process.env.RTGW_TEST_LOG ?? "silent" }),
    registry,
    canaryIntervalMs: 200,
    canaryTimeoutMs: 1500,
    commandTimeoutMs: 1000,
    startTimeoutMs: 5000,
    ...overrides,
  });
  const rec = recorder();
  await broker.start(rec.events);
  return { broker, rec, registry, nodeId };
}

export { sleep, until } from "../../../test-support/wait.js";

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
