// How big each bench scenario is: the full run (`make bench`) and `--quick`, a smoke run at small sizes.
import { effectiveMaxConnections, readOpenFileLimit } from "../../../gateway/src/limits.js";

export interface Sizes {
  idleConnections: number;
  fanoutSubscribers: number;
  latencySubscribers: number;
  latencyChannels: number;
  latencyRate: number;
  crossSubscribers: number;
  measureSeconds: number;
  workers: number;
  /**
   * Fan-out pipeline depth: messages published but not yet delivered to every subscriber. Deep enough that
   * servers and clients batch (the figure rises with it: 20 → 100 → 300 gave 0.34M → 0.45M → 0.67M/s for
   * bare uWS here), bounded so no socket queues more than ~25 KB.
   */
  fanoutWindow: number;
  /** Connections opened at once for the connect rate, and the handshakes each worker keeps in flight. */
  connectConnections: number;
  connectConcurrency: number;
  /** The pod at its open-file cap: subscribers, channels, how many of them record latency. */
  relayConnections: number;
  relayChannels: number;
  relayTrackers: number;
  /** Deliveries in flight the relay's closed loop allows (messages = this / subscribers per channel). */
  relayWindowDeliveries: number;
  /** Publishes per figure in the Redis publish comparison, and how many our broker keeps in flight. */
  publishCount: number;
  publishConcurrency: number;
}

/** About 19,900 here: what one gateway process may hold under a 20,000 open-file limit, with headroom. */
export function podCapConnections(openFileLimit = readOpenFileLimit()): number {
  return Math.min(19_900, effectiveMaxConnections(100_000, openFileLimit));
}

export const FULL: Sizes = {
  idleConnections: 15_000,
  fanoutSubscribers: 10_000,
  latencySubscribers: 1_000,
  latencyChannels: 10,
  latencyRate: 100,
  crossSubscribers: 10_000,
  measureSeconds: 8,
  workers: 2,
  fanoutWindow: 256,
  connectConnections: 15_000,
  connectConcurrency: 500,
  relayConnections: podCapConnections(),
  // ~995 subscribers a channel: 1,000,000 deliveries/s needs ~1,000 publishes/s from the feeder, not 5,000.
  relayChannels: 20,
  relayTrackers: 200,
  // In closed loop, latency ≈ deliveries in flight / deliveries per second: 40,000 at 1M/s is 40 ms.
  relayWindowDeliveries: 40_000,
  publishCount: 200_000,
  publishConcurrency: 256,
};

export const QUICK: Sizes = {
  idleConnections: 1_000,
  fanoutSubscribers: 500,
  latencySubscribers: 200,
  latencyChannels: 4,
  latencyRate: 40,
  crossSubscribers: 500,
  measureSeconds: 2,
  workers: 1,
  fanoutWindow: 50,
  connectConnections: 1_000,
  connectConcurrency: 200,
  relayConnections: 1_000,
  relayChannels: 10,
  relayTrackers: 20,
  relayWindowDeliveries: 5_000,
  publishCount: 20_000,
  publishConcurrency: 256,
};
