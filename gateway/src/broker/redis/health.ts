// The Redis broker's health: a canary round trip through Redis on each subscriber connection proves delivery
// works, so "healthy but not delivering" cannot last longer than the canary bound; a connection that stays silent
// past it is reconnected. Healthy also needs the command connection and every server's id.
import type { Logger } from "pino";
import { Histogram, type Registry } from "prom-client";
import type { Connections } from "./connections.js";
import type { ServerIds } from "./server-id.js";
import type { Shards, SubscriberShard } from "./shards.js";

export interface HealthOptions {
  canaryTimeoutMs: number;
  registry: Registry;
  log: Logger;
  isClosed: () => boolean;
  /** Called when the health changes (and only then). */
  changed: (healthy: boolean) => void;
}

export class Health {
  private canarySeq = 0;
  private readonly canarySent = new Map<number, number>();
  /** Canary channel → the subscriber connection it proves. */
  private readonly canaries = new Map<string, SubscriberShard>();
  private reported: boolean | undefined;
  private readonly roundTrip: Histogram;

  constructor(
    private readonly connections: Connections,
    private readonly shards: Shards,
    private readonly serverIds: ServerIds,
    private readonly o: HealthOptions,
  ) {
    const existing = o.registry.getSingleMetric("rtgw_broker_round_trip_seconds");
    this.roundTrip =
      existing instanceof Histogram
        ? existing
        : new Histogram({
            name: "rtgw_broker_round_trip_seconds",
            help: "Canary round trip through Redis: publish on this node's canary channel until it comes back",
            buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            registers: [o.registry],
          });
  }

  healthy(): boolean {
    if (this.o.isClosed() || !this.connections.commandReady() || this.shards.size === 0) return false;
    for (const key of this.connections.serverKeys()) if (!this.serverIds.has(key)) return false;
    const now = Date.now();
    for (const shard of this.shards.values()) {
      if (!shard.ready || shard.restoring > 0 || now - shard.lastCanaryAt > this.o.canaryTimeoutMs)
        return false;
    }
    return true;
  }

  check(): void {
    this.reconnectIfSilent();
    this.serverIds.readAll(false);
    const healthy = this.healthy();
    if (healthy === this.reported) return;
    this.reported = healthy;
    this.o.log.info({ healthy }, healthy ? "redis broker healthy" : "redis broker unhealthy");
    this.o.changed(healthy);
  }

  /**
   * Connections that claim to be up while the canary stopped coming back (a half-open TCP connection, a stalled
   * path) would never heal on their own: reconnect them, and let the restore fill or resync what was missed.
   */
  private reconnectIfSilent(): void {
    if (this.o.isClosed() || !this.connections.commandReady()) return;
    const now = Date.now();
    for (const shard of this.shards.values()) {
      // Silence counts from the last round trip, (re)connection, kick or any message, whichever is latest: a
      // connection still delivering (the canary only queued behind a backlog) is overloaded, not dead.
      shard.noteTraffic(now);
      const since = Math.max(shard.lastCanaryAt, shard.lastReadyAt, shard.lastKickAt, shard.lastTrafficAt);
      if (!shard.ready || now - since <= this.o.canaryTimeoutMs) continue;
      shard.lastKickAt = now;
      this.o.log.warn(
        { shard: shard.key, silentMs: now - shard.lastCanaryAt },
        "redis canary silent: reconnecting",
      );
      shard.redis.disconnect(true);
      // The canary's publish went through the command connection: it may be the stalled one.
      this.connections.command?.disconnect(true);
    }
  }

  send(): void {
    const command = this.connections.command;
    if (this.o.isClosed() || !command || !this.connections.commandReady()) return;
    for (const shard of this.shards.values()) {
      if (!shard.ready || shard.canary === undefined) continue;
      const seq = ++this.canarySeq;
      this.canarySent.set(seq, performance.now());
      if (this.canarySent.size > 256) {
        const oldest = this.canarySent.keys().next().value;
        if (oldest !== undefined) this.canarySent.delete(oldest);
      }
      const sent = shard.sharded
        ? command.spublish(shard.canary, String(seq))
        : command.publish(shard.canary, String(seq));
      sent.catch((error: unknown) => this.o.log.debug({ err: String(error) }, "canary publish failed"));
    }
  }

  /** A pub/sub message on a channel no stream claimed: a canary coming back, or nothing. */
  received(name: string, payload: string): void {
    const shard = this.canaries.get(name);
    if (!shard) return;
    const seq = Number(payload);
    const sentAt = this.canarySent.get(seq);
    if (sentAt === undefined) return;
    this.canarySent.delete(seq);
    this.roundTrip.observe((performance.now() - sentAt) / 1000);
    shard.lastCanaryAt = Date.now();
    this.check();
  }

  /** Subscribe the connection's canary (again after a reconnect, or when its slot moved). */
  arm(shard: SubscriberShard, afterReconnect: boolean): void {
    const name = this.shards.canaryNameFor(shard);
    if (!afterReconnect && name === shard.canary) return;
    if (shard.canary !== undefined && shard.canary !== name) {
      this.canaries.delete(shard.canary);
      if (!afterReconnect) shard.unsubscribe(shard.canary).catch(() => undefined);
    }
    shard.canary = name;
    if (name === undefined) return;
    this.canaries.set(name, shard);
    shard.subscribe(name).then(
      () => this.send(),
      (error: unknown) =>
        this.o.log.warn({ shard: shard.key, err: String(error) }, "canary subscribe failed"),
    );
  }

  /** The shard was closed for good (cluster prune): its canary proves nothing any more. */
  forget(shard: SubscriberShard): void {
    if (shard.canary !== undefined) this.canaries.delete(shard.canary);
  }
}
