// The Redis broker: many gateway pods act as one. This file wires its parts and holds the lifecycle:
//   connections.ts  the command and subscriber connections        shards.ts     shards, slots, script targets
//   channel-log.ts  publish and history scripts                   stream.ts     per-channel streams and recovery
//   presence.ts     presence across pods                          health.ts     canary, health, silent reconnects
//   server-id.ts    server terms                                  control.ts    the fleet's control channel
//   nodes.ts        the node registry (heartbeats with a TTL)     keys/scripts/payload/slot/target.ts  as named
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type {
  Broker,
  BrokerEvents,
  ControlMessage,
  HistoryOptions,
  HistoryResult,
  JoinLeaveOptions,
  NodeReport,
  Position,
  PresenceEntry,
} from "../broker.js";
import { ChannelLog } from "./channel-log.js";
import { Connections } from "./connections.js";
import { Control } from "./control.js";
import { Health } from "./health.js";
import { NodeRegistry } from "./nodes.js";
import { Presence } from "./presence.js";
import { ServerIds } from "./server-id.js";
import { Shards, Slots, type SubscriberShard } from "./shards.js";
import { ChannelStreams } from "./stream.js";
import { parseRedisTarget } from "./target.js";

export interface RedisBrokerOptions extends HistoryOptions, JoinLeaveOptions {
  /** redis:// or rediss:// (standalone), redis+sentinel://s1:p1,s2:p2/name, or with `cluster` a comma-separated list of seeds. */
  url: string;
  /** Redis Cluster with sharded pub/sub (SSUBSCRIBE/SPUBLISH). The gateway sets it from RTGW_REDIS_CLUSTER. */
  cluster?: boolean;
  nodeId: string;
  logger: Logger;
  /** The gateway's prom-client registry: the broker registers its own metrics here. */
  registry: Registry;
  /** How often the canary goes round through Redis (default 1000 ms). */
  canaryIntervalMs?: number;
  /** Unhealthy when no canary came back for this long (default 5000 ms). */
  canaryTimeoutMs?: number;
  /** A Redis command not answered within this fails (default 2000 ms): publishes never hang on a stuck Redis. */
  commandTimeoutMs?: number;
  /** Presence members of a node expire this long after the node last refreshed them (default 30 s). */
  presenceTtlSeconds?: number;
  /** How long start() waits for a first healthy state before resolving anyway, unhealthy (default 10 s). */
  startTimeoutMs?: number;
  /** Cluster mode: how often the slot map is re-read, so channels follow a slot that moved (default 5000 ms). */
  clusterRefreshMs?: number;
}

export function createRedisBroker(options: RedisBrokerOptions): Broker {
  return new RedisBroker(options);
}

class RedisBroker implements Broker {
  readonly kind = "redis" as const;
  private readonly logger: Logger;
  private readonly canaryIntervalMs: number;
  private readonly presenceTtlMs: number;
  private readonly connections: Connections;
  private readonly serverIds: ServerIds;
  private readonly shards: Shards;
  private readonly slots: Slots;
  private readonly health: Health;
  private readonly log: ChannelLog;
  private readonly streams: ChannelStreams;
  private readonly presenceOf: Presence;
  private readonly control: Control;
  private readonly registry: NodeRegistry;
  private events: BrokerEvents | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(private readonly options: RedisBrokerOptions) {
    const target = parseRedisTarget(options.url, options.cluster ?? false);
    this.logger = options.logger.child({ component: "redis-broker" });
    this.canaryIntervalMs = options.canaryIntervalMs ?? 1000;
    this.presenceTtlMs = (options.presenceTtlSeconds ?? 30) * 1000;
    const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    const isClosed = () => this.closed;
    this.connections = new Connections(
      target,
      { nodeId: options.nodeId, commandTimeoutMs, clusterRefreshMs: options.clusterRefreshMs ?? 5000 },
      this.logger,
    );
    this.serverIds = new ServerIds(this.connections, this.logger, isClosed, () => this.health.check());
    this.shards = new Shards(this.connections, options.nodeId, this.logger, isClosed, {
      message: (_shard, name, payload) => {
        if (!this.streams.received(name, payload)) this.health.received(name, payload);
      },
      ready: (shard) => this.onShardReady(shard),
      down: (shard) => {
        this.streams.shardDown(shard);
        this.health.check();
      },
    });
    this.slots = new Slots(this.connections, this.serverIds);
    this.health = new Health(this.connections, this.shards, this.serverIds, {
      canaryTimeoutMs: options.canaryTimeoutMs ?? 5000,
      registry: options.registry,
      log: this.logger,
      isClosed,
      changed: (healthy) => this.events?.health(healthy),
    });
    this.log = new ChannelLog(this.connections, this.slots, options);
    this.streams = new ChannelStreams({
      shards: this.shards,
      log: this.log,
      logger: this.logger,
      commandTimeoutMs,
      isClosed,
      events: () => this.events,
      restored: () => this.health.check(),
    });
    this.presenceOf = new Presence(
      this.connections,
      { nodeId: options.nodeId, ttlMs: this.presenceTtlMs, joinLeaveOf: options.joinLeaveOf },
      this.logger,
    );
    this.control = new Control(this.connections, this.logger);
    this.registry = new NodeRegistry(this.connections);
  }

  // ---- lifecycle ------------------------------------------------------------------------------------

  async start(events: BrokerEvents): Promise<void> {
    this.events = events;
    this.connections.openCommand(
      {
        ready: () => {
          if (this.connections.cluster) this.shards.ensureMasters();
          this.onCommandReady();
        },
        closed: () => this.health.check(),
        serverReady: (key, connection) => this.serverIds.read(key, connection),
        serverClosed: (key) => this.serverIds.forget(key),
        slotsRefreshed: () => this.onSlotsRefreshed(),
      },
      () => this.closed,
    );
    if (!this.connections.cluster) this.shards.ensure("main", undefined);
    this.control.start((message) => this.events?.control?.(message));
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.canaryIntervalMs, () => {
      this.health.send();
      // Re-read the ids: a server demoted and promoted again while our connection stayed open gets a new id.
      this.serverIds.readAll(true);
    });
    every(Math.min(250, this.canaryIntervalMs), () => this.health.check());
    every(Math.max(100, Math.floor(this.presenceTtlMs / 3)), () => void this.presenceOf.refresh(this.closed));

    const startTimeout = this.options.startTimeoutMs ?? 10_000;
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => {
        clearInterval(poll);
        this.logger.warn(
          { target: this.connections.target.mode },
          "redis not healthy yet; starting unready and retrying",
        );
        resolve();
      }, startTimeout);
      const poll = setInterval(() => {
        if (this.health.healthy()) {
          clearTimeout(deadline);
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    this.health.check();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.streams.flush();
    this.shards.disconnect();
    this.control.close();
    this.connections.command?.disconnect();
  }

  healthy(): boolean {
    return this.health.healthy();
  }

  private onCommandReady(): void {
    for (const shard of this.shards.values()) shard.lastReadyAt = Date.now();
    this.presenceOf.markLost();
    this.health.send();
    void this.presenceOf.refresh(this.closed);
    this.health.check();
  }

  /** Cluster: the slot table was re-read. Follow it: ids, subscriber connections, channels, canaries. */
  private onSlotsRefreshed(): void {
    this.slots.note();
    // A node that stopped owning slots may be a replica now: when it owns slots again, read its id first.
    this.serverIds.forgetAllBut(new Set(this.connections.serverKeys()));
    this.serverIds.readAll(true);
    this.shards.ensureMasters();
    this.streams.followSlots();
    for (const shard of this.shards.values()) if (shard.ready) this.health.arm(shard, false);
    this.shards.prune(this.streams.usedShards(), (shard) => this.health.forget(shard));
  }

  /** A subscriber connection (re)connected: resubscribe its channels, then fill each one's hole or resync. */
  private onShardReady(shard: SubscriberShard): void {
    shard.lastReadyAt = Date.now();
    shard.generation++;
    this.health.arm(shard, true);
    this.streams.shardReady(shard);
    this.health.check();
  }

  // ---- Broker API -----------------------------------------------------------------------------------

  publish(channel: string, data: string): Promise<Position> {
    return this.log.append(channel, data);
  }

  subscribe(channel: string): Promise<void> {
    return this.streams.subscribe(channel);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.streams.unsubscribe(channel);
  }

  history(channel: string, since: number, epoch?: string): Promise<HistoryResult> {
    return this.log.read(channel, since, epoch, false);
  }

  async position(channel: string): Promise<Position> {
    const { offset, epoch } = await this.log.read(channel, 0, undefined, true);
    return { offset, epoch };
  }

  presenceJoin(channel: string, member: PresenceEntry): Promise<void> {
    return this.presenceOf.join(channel, member);
  }

  presenceLeave(channel: string, member: PresenceEntry): Promise<void> {
    return this.presenceOf.leave(channel, member);
  }

  presenceList(channel: string): Promise<PresenceEntry[]> {
    return this.presenceOf.list(channel);
  }

  sendControl(message: ControlMessage): Promise<number> {
    return this.control.send(message);
  }

  reportNode(report: NodeReport, ttlMs: number): Promise<void> {
    return this.registry.report(report, ttlMs);
  }

  nodes(): Promise<NodeReport[]> {
    return this.registry.list();
  }
}
