// Shards and slots: which subscriber connection carries a channel (the only one in standalone/sentinel mode, one
// per master in cluster mode), and on which server, with which server id, a channel's scripts run. In cluster
// mode both follow the slot table, and a slot seen to migrate between two live masters keeps its epoch.
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { BrokerUnavailableError } from "../broker.js";
import type { Connections, ScriptCommands } from "./connections.js";
import { canaryChannel } from "./keys.js";
import type { ServerIds } from "./server-id.js";
import { keySlot } from "./slot.js";

/** One subscriber connection: the only one in standalone/sentinel mode, one per master in cluster mode. */
export class SubscriberShard {
  generation = 0;
  /** Restores (resubscribe + gap fill) still running after the last reconnect. */
  restoring = 0;
  /** This connection's canary channel (cluster: a name in a slot this master owns). */
  canary: string | undefined;
  lastCanaryAt = 0;
  lastReadyAt = 0;
  lastKickAt = 0;
  /** Pub/sub messages received, and when that count last moved (seen at health checks). */
  received = 0;
  private receivedSeen = 0;
  lastTrafficAt = 0;
  noteTraffic(now: number): void {
    if (this.received !== this.receivedSeen) {
      this.receivedSeen = this.received;
      this.lastTrafficAt = now;
    }
  }
  constructor(
    readonly key: string,
    readonly redis: Redis,
    readonly sharded: boolean,
  ) {}
  get ready(): boolean {
    return this.redis.status === "ready";
  }
  async subscribe(name: string): Promise<void> {
    if (this.sharded) await this.redis.ssubscribe(name);
    else await this.redis.subscribe(name);
  }
  async unsubscribe(name: string): Promise<void> {
    if (this.sharded) await this.redis.sunsubscribe(name);
    else await this.redis.unsubscribe(name);
  }

  /** A shard connecting for the first time (cluster: created on first use) gets a moment; a broken one none. */
  async whenReady(timeoutMs: number): Promise<void> {
    if (this.ready) return;
    if (this.generation > 0 || !["wait", "connecting", "connect"].includes(this.redis.status)) {
      throw new BrokerUnavailableError("redis subscriber is not connected");
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off("ready", onReady);
        reject(new BrokerUnavailableError("redis subscriber did not connect in time"));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once("ready", onReady);
    });
  }
}

/** What a subscriber connection reports. */
export interface ShardEvents {
  message(shard: SubscriberShard, name: string, payload: string): void;
  ready(shard: SubscriberShard): void;
  down(shard: SubscriberShard): void;
}

/** The subscriber connections, by key ("main", or a cluster node's host:port). */
export class Shards {
  readonly all = new Map<string, SubscriberShard>();

  constructor(
    private readonly connections: Connections,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly isClosed: () => boolean,
    private readonly events: ShardEvents,
  ) {}

  get size(): number {
    return this.all.size;
  }

  values(): IterableIterator<SubscriberShard> {
    return this.all.values();
  }

  /** The subscriber connection responsible for a pub/sub channel (created on first use). */
  shardFor(pubsub: string): SubscriberShard {
    if (!this.connections.cluster) return this.ensure("main", undefined);
    const nodeKey = this.connections.slots()[keySlot(pubsub)]?.[0];
    if (!nodeKey) throw new BrokerUnavailableError("redis cluster: no node owns this channel's slot yet");
    return this.ensure(nodeKey, nodeKey);
  }

  /** Cluster: a subscriber connection to every master that owns slots. */
  ensureMasters(): void {
    // A slot refresh can still land after close(): open nothing then (it would keep the process alive).
    if (this.isClosed()) return;
    for (const owners of this.connections.slots()) {
      const nodeKey = owners?.[0];
      if (nodeKey) this.ensure(nodeKey, nodeKey);
    }
  }

  ensure(key: string, nodeKey: string | undefined): SubscriberShard {
    const existing = this.all.get(key);
    if (existing) return existing;
    if (this.isClosed()) throw new BrokerUnavailableError("the broker is closed");
    const redis = this.connections.openSubscriber(nodeKey);
    const shard = new SubscriberShard(key, redis, nodeKey !== undefined);
    this.all.set(key, shard);
    redis.on(shard.sharded ? "smessage" : "message", (name: string, payload: string) => {
      shard.received++;
      this.events.message(shard, name, payload);
    });
    redis.on("ready", () => this.events.ready(shard));
    redis.on("close", () => this.events.down(shard));
    redis.on("error", (error: Error) =>
      this.log.debug({ err: error.message, shard: key }, "redis subscriber error"),
    );
    return shard;
  }

  /** The canary channel for a subscriber connection: cluster mode needs a name whose slot that master owns. */
  canaryNameFor(shard: SubscriberShard): string | undefined {
    if (!this.connections.cluster) return canaryChannel(this.nodeId);
    const slots = this.connections.slots();
    for (let i = 0; i < 100_000; i++) {
      const name = canaryChannel(`${this.nodeId}:${i}`);
      if (slots[keySlot(name)]?.[0] === shard.key) return name;
    }
    return undefined;
  }

  /** Cluster: close subscriber connections to nodes that no longer own slots and carry nothing. */
  prune(used: ReadonlySet<SubscriberShard>, removed: (shard: SubscriberShard) => void): void {
    const masters = new Set(this.connections.slots().map((owners) => owners?.[0]));
    for (const [key, shard] of this.all) {
      if (masters.has(key) || used.has(shard)) continue;
      this.all.delete(key);
      removed(shard);
      shard.redis.disconnect();
    }
  }

  disconnect(): void {
    for (const shard of this.all.values()) shard.redis.disconnect();
  }
}

/** Where a channel's scripts run, with the server id to stamp its epoch and the adoptable previous stamp. */
export interface ScriptTarget {
  client: ScriptCommands;
  id: string;
  adopt: string;
}

/** Cluster slot ownership over time, and the script target of each channel. */
export class Slots {
  /** Cluster: the owner of each slot at the last slot refresh, with the server ids then known. */
  private owners: Array<string | undefined> = [];
  private ownerIds = new Map<string, string>();
  /** Cluster: slots seen to migrate between two live masters: the new owner may keep the old owner's epoch. */
  private readonly adoptable = new Map<number, { from: string; to: string; toId: string }>();

  constructor(
    private readonly connections: Connections,
    private readonly serverIds: ServerIds,
  ) {}

  /**
   * Cluster: compare the slot table with the one at the previous refresh. A slot whose owner changed between two
   * masters that both owned slots before and after, with unchanged ids, was migrated (resharding): MIGRATE moved
   * its keys whole, so the new owner may adopt the old owner's epoch. Any other change (a failover: the new owner
   * was a replica, or the old one is gone or another term) gets no such leave: a new epoch.
   */
  note(): void {
    const owners = this.connections.slots().map((slot) => slot?.[0]);
    const previous = new Set(this.owners);
    const current = new Set(owners);
    const stable = (key: string) => {
      const id = this.serverIds.get(key);
      return id !== undefined && this.ownerIds.get(key) === id ? id : undefined;
    };
    for (let slot = 0; slot < owners.length; slot++) {
      const from = this.owners[slot];
      const to = owners[slot];
      if (from === to) continue;
      this.adoptable.delete(slot);
      if (from === undefined || to === undefined || !current.has(from) || !previous.has(to)) continue;
      const fromId = stable(from);
      const toId = stable(to);
      if (fromId !== undefined && toId !== undefined) this.adoptable.set(slot, { from: fromId, to, toId });
    }
    this.owners = owners;
    this.ownerIds = this.serverIds.snapshot();
  }

  /**
   * Where a channel's scripts run and with which ids: the command connection (standalone, sentinel) or the slot
   * owner's node connection (cluster), with that server's id. No id yet: the broker is unavailable for it.
   */
  scriptTarget(epochKey: string): ScriptTarget {
    const command = this.connections.readyCommand();
    if (!this.connections.cluster) {
      const id = this.serverIds.get("main");
      if (id === undefined) throw new BrokerUnavailableError("redis server not identified yet");
      return { client: command, id, adopt: "" };
    }
    if (this.owners.length === 0) this.note();
    const slot = keySlot(epochKey);
    const owner = this.owners[slot];
    const node = owner === undefined ? undefined : this.connections.nodeConnections.get(owner);
    const id = owner === undefined ? undefined : this.serverIds.get(owner);
    if (!node || id === undefined) {
      throw new BrokerUnavailableError("redis cluster: the channel's master is not identified yet");
    }
    const adopt = this.adoptable.get(slot);
    return {
      client: node,
      id,
      adopt: adopt !== undefined && adopt.to === owner && adopt.toId === id ? adopt.from : "",
    };
  }
}
