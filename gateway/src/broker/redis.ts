// The Redis broker: many gateway pods act as one. Publish is one atomic Lua script (offset, epoch, capped history,
// fan-out); each pod subscribes per channel (refcounted) on its subscriber connection(s), tracks the last offset it
// handed on, and after any break reads history to fill the hole or tells the hub to resync. A canary round trip
// through Redis proves delivery works, so "healthy but not delivering" cannot last longer than the canary bound.
import { randomBytes } from "node:crypto";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { Histogram, type Registry } from "prom-client";
import { z } from "zod";
import { presenceMember } from "../../../protocol/index.js";
import {
  type Broker,
  type BrokerEvents,
  type BrokerMessage,
  BrokerUnavailableError,
  type HistoryResult,
  type Position,
  type PresenceEntry,
} from "./broker.js";
import {
  canaryChannel,
  channelKeys,
  channelOfPubsub,
  presenceMembersKey,
  pubsubChannel,
} from "./redis-keys.js";
import { decodePayload, encodePresencePayload } from "./redis-payload.js";
import {
  HISTORY_SCRIPT,
  PRESENCE_JOIN_SCRIPT,
  PRESENCE_LEAVE_SCRIPT,
  PRESENCE_LIST_SCRIPT,
  PUBLISH_SCRIPT,
} from "./redis-scripts.js";
import { type Cursor, type Emission, historyComplete, judge, mergeRecovery } from "./redis-sequence.js";
import { serverIdOf } from "./redis-server-id.js";
import { keySlot } from "./redis-slot.js";
import { nodeOptions, parseRedisTarget, type RedisTarget } from "./redis-target.js";

export interface RedisBrokerOptions {
  /** redis:// or rediss:// (standalone), redis+sentinel://s1:p1,s2:p2/name, or with `cluster` a comma-separated list of seeds. */
  url: string;
  /** Redis Cluster with sharded pub/sub (SSUBSCRIBE/SPUBLISH). The gateway sets it from RTGW_REDIS_CLUSTER. */
  cluster?: boolean;
  nodeId: string;
  historySize: number;
  historyTtlSeconds: number;
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

type CommandClient = Redis | Cluster;

/** Methods ioredis' defineCommand adds (EVALSHA, falling back to EVAL on NOSCRIPT). */
interface ScriptCommands {
  rtgwPublish(...args: (string | number)[]): Promise<unknown>;
  rtgwHistory(...args: (string | number)[]): Promise<unknown>;
  rtgwPresenceJoin(...args: (string | number)[]): Promise<unknown>;
  rtgwPresenceLeave(...args: (string | number)[]): Promise<unknown>;
  rtgwPresenceList(...args: (string | number)[]): Promise<unknown>;
}

/** The scripts on a channel's offset, epoch, history and adoption keys (KEYS: those four). */
const CHANNEL_SCRIPTS: Array<["rtgwPublish" | "rtgwHistory", string]> = [
  ["rtgwPublish", PUBLISH_SCRIPT],
  ["rtgwHistory", HISTORY_SCRIPT],
];

const publishReply = z.tuple([z.number().int(), z.string()]);
const historyReply = z.tuple([
  z.number().int(),
  z.string(),
  z.array(z.tuple([z.string(), z.array(z.string())])),
]);
const presenceListReply = z.array(z.string());

/** Live messages held per channel while a history read is in flight; past it the read is redone. */
const MAX_HELD = 100_000;
const RETRY_MS = 250;

/** One subscriber connection: the only one in standalone/sentinel mode, one per master in cluster mode. */
class SubscriberShard {
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
}

interface ChannelState {
  channel: string;
  pubsub: string;
  refs: number;
  shard: SubscriberShard;
  /** Last offset handed to the hub (or the position when the subscription began), and its epoch. */
  cursor: Cursor | undefined;
  /** False while joining or recovering: live messages are held, then merged. */
  live: boolean;
  held: BrokerMessage[];
  overflowed: boolean;
  joined: Promise<void>;
}

function newEpoch(): string {
  return randomBytes(8).toString("hex");
}

function unavailable(error: unknown): BrokerUnavailableError {
  if (error instanceof BrokerUnavailableError) return error;
  return new BrokerUnavailableError(`redis: ${error instanceof Error ? error.message : String(error)}`);
}

export function createRedisBroker(options: RedisBrokerOptions): Broker {
  return new RedisBroker(options);
}

class RedisBroker implements Broker {
  readonly kind = "redis" as const;
  private readonly target: RedisTarget;
  private readonly log: Logger;
  private readonly canaryIntervalMs: number;
  private readonly canaryTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly presenceTtlMs: number;
  private readonly roundTrip: Histogram;

  private events: BrokerEvents | undefined;
  private command: (CommandClient & ScriptCommands) | undefined;
  private readonly shards = new Map<string, SubscriberShard>();
  private readonly channels = new Map<string, ChannelState>();
  private readonly byPubsub = new Map<string, ChannelState>();
  /** Per channel, the tail of its serialized subscribe/unsubscribe/restore operations. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Presence members this node holds, re-announced on every refresh so a crashed node's members expire. */
  private readonly localPresence = new Map<string, Map<string, PresenceEntry>>();
  private presenceLost = false;

  private pending: BrokerMessage[] = [];
  private flushScheduled = false;

  private canarySeq = 0;
  private readonly canarySent = new Map<number, number>();
  /** Canary channel → the subscriber connection it proves. */
  private readonly canaries = new Map<string, SubscriberShard>();
  private reportedHealthy: boolean | undefined;
  /**
   * Server id (redis-server-id.ts) of each command connection's server: "main" in standalone/sentinel mode, the
   * node key (host:port) of each master in cluster mode. Set only from an INFO that said role:master, dropped when
   * the connection closes or the node stops owning slots; no id, no script (publishes get `unavailable`).
   */
  private readonly serverIds = new Map<string, string>();
  /** Per connection key, the number of the latest INFO read; a reply from an older read is ignored. */
  private readonly serverIdReads = new Map<string, number>();
  private readonly serverIdInFlight = new Set<string>();
  /**
   * Cluster: each node's own connection, on which the channel scripts run directly, never redirected: a MOVED
   * would run them on another server with this one's id (a promoted replica holds the stamps its master wrote).
   */
  private readonly nodeConnections = new Map<string, Redis & ScriptCommands>();
  /** Cluster: the owner of each slot at the last slot refresh, with the server ids then known. */
  private slotOwners: Array<string | undefined> = [];
  private ownerIds = new Map<string, string>();
  /** Cluster: slots seen to migrate between two live masters: the new owner may keep the old owner's epoch. */
  private readonly adoptable = new Map<number, { from: string; to: string; toId: string }>();
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(private readonly options: RedisBrokerOptions) {
    this.target = parseRedisTarget(options.url, options.cluster ?? false);
    this.log = options.logger.child({ component: "redis-broker" });
    this.canaryIntervalMs = options.canaryIntervalMs ?? 1000;
    this.canaryTimeoutMs = options.canaryTimeoutMs ?? 5000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.presenceTtlMs = (options.presenceTtlSeconds ?? 30) * 1000;
    const existing = options.registry.getSingleMetric("rtgw_broker_round_trip_seconds");
    this.roundTrip =
      existing instanceof Histogram
        ? existing
        : new Histogram({
            name: "rtgw_broker_round_trip_seconds",
            help: "Canary round trip through Redis: publish on this node's canary channel until it comes back",
            buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            registers: [options.registry],
          });
  }

  // ---- lifecycle ------------------------------------------------------------------------------------

  async start(events: BrokerEvents): Promise<void> {
    this.events = events;
    this.command = this.createCommandClient();
    if (this.target.mode !== "cluster") this.ensureShard("main", undefined);
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.canaryIntervalMs, () => {
      this.sendCanary();
      // Re-read the ids: a server demoted and promoted again while our connection stayed open gets a new id.
      this.readServerIds(true);
    });
    every(Math.min(250, this.canaryIntervalMs), () => this.checkHealth());
    every(Math.max(100, Math.floor(this.presenceTtlMs / 3)), () => void this.refreshPresence());

    const startTimeout = this.options.startTimeoutMs ?? 10_000;
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => {
        clearInterval(poll);
        this.log.warn({ target: this.target.mode }, "redis not healthy yet; starting unready and retrying");
        resolve();
      }, startTimeout);
      const poll = setInterval(() => {
        if (this.computeHealthy()) {
          clearTimeout(deadline);
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    this.checkHealth();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.flush();
    for (const shard of this.shards.values()) shard.redis.disconnect();
    this.command?.disconnect();
  }

  healthy(): boolean {
    return this.computeHealthy();
  }

  private computeHealthy(): boolean {
    if (this.closed || !this.commandReady() || this.shards.size === 0) return false;
    for (const key of this.serverKeys()) if (!this.serverIds.has(key)) return false;
    const now = Date.now();
    for (const shard of this.shards.values()) {
      if (!shard.ready || shard.restoring > 0 || now - shard.lastCanaryAt > this.canaryTimeoutMs)
        return false;
    }
    return true;
  }

  private checkHealth(): void {
    this.reconnectIfSilent();
    this.readServerIds(false);
    const healthy = this.computeHealthy();
    if (healthy === this.reportedHealthy) return;
    this.reportedHealthy = healthy;
    this.log.info({ healthy }, healthy ? "redis broker healthy" : "redis broker unhealthy");
    this.events?.health(healthy);
  }

  /**
   * Connections that claim to be up while the canary stopped coming back (a half-open TCP connection, a stalled
   * path) would never heal on their own: reconnect them, and let the restore fill or resync what was missed.
   */
  private reconnectIfSilent(): void {
    if (this.closed || !this.commandReady()) return;
    const now = Date.now();
    for (const shard of this.shards.values()) {
      // Silence counts from the last round trip, (re)connection, kick or any message, whichever is latest: a
      // connection still delivering (the canary only queued behind a backlog) is overloaded, not dead.
      shard.noteTraffic(now);
      const since = Math.max(shard.lastCanaryAt, shard.lastReadyAt, shard.lastKickAt, shard.lastTrafficAt);
      if (!shard.ready || now - since <= this.canaryTimeoutMs) continue;
      shard.lastKickAt = now;
      this.log.warn(
        { shard: shard.key, silentMs: now - shard.lastCanaryAt },
        "redis canary silent: reconnecting",
      );
      shard.redis.disconnect(true);
      // The canary's publish went through the command connection: it may be the stalled one.
      this.command?.disconnect(true);
    }
  }

  private commandReady(): boolean {
    return this.command?.status === "ready";
  }

  // ---- connections ----------------------------------------------------------------------------------

  private baseOptions(): RedisOptions {
    return {
      ...nodeOptions(this.target),
      // No offline queue and no retries: a command while Redis is away fails at once (BrokerUnavailableError),
      // and one in flight when the connection drops is rejected, never silently replayed or dropped.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 1000),
      connectionName: `rtgw:${this.options.nodeId}`,
    };
  }

  private createCommandClient(): CommandClient & ScriptCommands {
    const target = this.target;
    let client: CommandClient;
    if (target.mode === "cluster") {
      const { enableOfflineQueue: _offline, retryStrategy: _retry, ...redisOptions } = this.baseOptions();
      client = new Cluster(target.seeds, {
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
        slotsRefreshInterval: this.options.clusterRefreshMs ?? 5000,
        redisOptions,
      });
      const ensureMasters = () => {
        // A slot refresh can still land after close(): open nothing then (it would keep the process alive).
        if (this.closed) return;
        for (const owners of (client as Cluster).slots) {
          const nodeKey = owners?.[0];
          if (nodeKey) this.ensureShard(nodeKey, nodeKey);
        }
      };
      client.on("ready", () => {
        ensureMasters();
        this.onCommandReady();
      });
      // Each node connection: its id is read when it is ready and forgotten when it closes (ioredis opens a new
      // connection object, and emits +node again, when it reconnects to that address).
      client.on("+node", (node: Redis) => {
        const key = `${node.options.host}:${node.options.port}`;
        for (const [name, lua] of CHANNEL_SCRIPTS) node.defineCommand(name, { lua, numberOfKeys: 4 });
        this.nodeConnections.set(key, node as Redis & ScriptCommands);
        node.on("ready", () => this.readServerId(key, node));
        node.on("close", () => this.forgetServerId(key));
      });
      client.on("-node", (node: Redis, key: string) => {
        if (this.nodeConnections.get(key) === node) this.nodeConnections.delete(key);
      });
      client.on("refresh", () => {
        if (this.closed) return;
        this.noteSlotOwners();
        // A node that stopped owning slots may be a replica now: when it owns slots again, read its id first.
        const owners = new Set(this.serverKeys());
        for (const key of this.serverIds.keys()) if (!owners.has(key)) this.forgetServerId(key);
        this.readServerIds(true);
        ensureMasters();
        this.followSlots();
        this.pruneShards();
      });
    } else {
      const opts = { ...this.baseOptions(), enableAutoPipelining: true };
      client =
        target.mode === "sentinel"
          ? new Redis({ ...opts, sentinels: target.sentinels, name: target.name })
          : new Redis(target.url, opts);
      client.on("ready", () => {
        this.readServerId("main", client);
        this.onCommandReady();
      });
      client.on("close", () => this.forgetServerId("main"));
    }
    client.on("error", (error: Error) =>
      this.log.debug({ err: error.message }, "redis command connection error"),
    );
    client.on("close", () => this.checkHealth());
    const scripts: Array<[keyof ScriptCommands, string, number]> = [
      ...CHANNEL_SCRIPTS.map(([name, lua]) => [name, lua, 4] as [keyof ScriptCommands, string, number]),
      ["rtgwPresenceJoin", PRESENCE_JOIN_SCRIPT, 2],
      ["rtgwPresenceLeave", PRESENCE_LEAVE_SCRIPT, 1],
      ["rtgwPresenceList", PRESENCE_LIST_SCRIPT, 1],
    ];
    for (const [name, lua, numberOfKeys] of scripts) client.defineCommand(name, { lua, numberOfKeys });
    return client as CommandClient & ScriptCommands;
  }

  private onCommandReady(): void {
    for (const shard of this.shards.values()) shard.lastReadyAt = Date.now();
    // Redis may have lost this node's presence while we were away: re-add every member on the next refresh.
    this.presenceLost = true;
    this.sendCanary();
    void this.refreshPresence();
    this.checkHealth();
  }

  // ---- server ids ------------------------------------------------------------------------------------

  /** The keys of the command connections scripts run on: "main", or each master owning slots. */
  private serverKeys(): string[] {
    if (this.target.mode !== "cluster") return this.commandReady() ? ["main"] : [];
    const owners = new Set<string>();
    for (const slot of (this.command as Cluster).slots) if (slot?.[0]) owners.add(slot[0]);
    return [...owners];
  }

  private connectionOf(key: string): Redis | undefined {
    const command = this.command;
    if (!command) return undefined;
    return command instanceof Cluster ? this.nodeConnections.get(key) : command;
  }

  /** Read the missing ids (`all`: every id again). */
  private readServerIds(all: boolean): void {
    if (this.closed || !this.commandReady()) return;
    for (const key of this.serverKeys()) {
      if (!all && this.serverIds.has(key)) continue;
      const connection = this.connectionOf(key);
      if (connection) this.readServerId(key, connection);
    }
  }

  private readServerId(key: string, connection: Redis | Cluster): void {
    if (this.closed || this.serverIdInFlight.has(key) || connection instanceof Cluster) return;
    const read = (this.serverIdReads.get(key) ?? 0) + 1;
    this.serverIdReads.set(key, read);
    this.serverIdInFlight.add(key);
    connection.info().then(
      (info) => {
        this.serverIdInFlight.delete(key);
        if (this.serverIdReads.get(key) !== read) return;
        const id = /^role:master\s*$/m.test(info) ? serverIdOf(info) : undefined;
        const previous = this.serverIds.get(key);
        if (id === undefined) this.serverIds.delete(key);
        else this.serverIds.set(key, id);
        if (id !== previous) this.log.info({ server: key, id: id ?? null }, "redis server id");
        this.checkHealth();
      },
      (error: unknown) => {
        this.serverIdInFlight.delete(key);
        this.log.debug({ server: key, err: String(error) }, "redis server id not read");
      },
    );
  }

  private forgetServerId(key: string): void {
    this.serverIdReads.set(key, (this.serverIdReads.get(key) ?? 0) + 1);
    this.serverIdInFlight.delete(key);
    this.serverIds.delete(key);
  }

  /**
   * Cluster: compare the slot table with the one at the previous refresh. A slot whose owner changed between two
   * masters that both owned slots before and after, with unchanged ids, was migrated (resharding): MIGRATE moved
   * its keys whole, so the new owner may adopt the old owner's epoch. Any other change (a failover: the new owner
   * was a replica, or the old one is gone or another term) gets no such leave: a new epoch.
   */
  private noteSlotOwners(): void {
    const owners = (this.command as Cluster).slots.map((slot) => slot?.[0]);
    const previous = new Set(this.slotOwners);
    const current = new Set(owners);
    const stable = (key: string) => {
      const id = this.serverIds.get(key);
      return id !== undefined && this.ownerIds.get(key) === id ? id : undefined;
    };
    for (let slot = 0; slot < owners.length; slot++) {
      const from = this.slotOwners[slot];
      const to = owners[slot];
      if (from === to) continue;
      this.adoptable.delete(slot);
      if (from === undefined || to === undefined || !current.has(from) || !previous.has(to)) continue;
      const fromId = stable(from);
      const toId = stable(to);
      if (fromId !== undefined && toId !== undefined) this.adoptable.set(slot, { from: fromId, to, toId });
    }
    this.slotOwners = owners;
    this.ownerIds = new Map(this.serverIds);
  }

  /**
   * Where a channel's scripts run and with which ids: the command connection (standalone, sentinel) or the slot
   * owner's node connection (cluster), with that server's id. No id yet: the broker is unavailable for it.
   */
  private scriptTarget(epochKey: string): { client: ScriptCommands; id: string; adopt: string } {
    const command = this.command;
    if (!command || !this.commandReady()) throw new BrokerUnavailableError("redis is not connected");
    if (this.target.mode !== "cluster") {
      const id = this.serverIds.get("main");
      if (id === undefined) throw new BrokerUnavailableError("redis server not identified yet");
      return { client: command, id, adopt: "" };
    }
    if (this.slotOwners.length === 0) this.noteSlotOwners();
    const slot = keySlot(epochKey);
    const owner = this.slotOwners[slot];
    const node = owner === undefined ? undefined : this.nodeConnections.get(owner);
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

  /** A script's error: a redirect means our slot table is stale; refresh it (the caller gets `unavailable`). */
  private scriptFailed(error: unknown): BrokerUnavailableError {
    const message = error instanceof Error ? error.message : String(error);
    if (this.command instanceof Cluster && /^(MOVED|ASK) /.test(message)) {
      this.command.refreshSlotsCache();
    }
    return unavailable(error);
  }

  /** The subscriber connection responsible for a pub/sub channel (created on first use). */
  private shardFor(pubsub: string): SubscriberShard {
    const target = this.target;
    if (target.mode !== "cluster") return this.ensureShard("main", undefined);
    const slots = (this.command as Cluster).slots;
    const nodeKey = slots[keySlot(pubsub)]?.[0];
    if (!nodeKey) throw new BrokerUnavailableError("redis cluster: no node owns this channel's slot yet");
    return this.ensureShard(nodeKey, nodeKey);
  }

  /** The canary channel for a subscriber connection: cluster mode needs a name whose slot that master owns. */
  private canaryNameFor(shard: SubscriberShard): string | undefined {
    if (this.target.mode !== "cluster") return canaryChannel(this.options.nodeId);
    const slots = (this.command as Cluster).slots;
    for (let i = 0; i < 100_000; i++) {
      const name = canaryChannel(`${this.options.nodeId}:${i}`);
      if (slots[keySlot(name)]?.[0] === shard.key) return name;
    }
    return undefined;
  }

  /** Subscribe the connection's canary (again after a reconnect, or when its slot moved). */
  private armCanary(shard: SubscriberShard, afterReconnect: boolean): void {
    const name = this.canaryNameFor(shard);
    if (!afterReconnect && name === shard.canary) return;
    if (shard.canary !== undefined && shard.canary !== name) {
      this.canaries.delete(shard.canary);
      if (!afterReconnect) shard.unsubscribe(shard.canary).catch(() => undefined);
    }
    shard.canary = name;
    if (name === undefined) return;
    this.canaries.set(name, shard);
    shard.subscribe(name).then(
      () => this.sendCanary(),
      (error: unknown) => this.log.warn({ shard: shard.key, err: String(error) }, "canary subscribe failed"),
    );
  }

  private ensureShard(key: string, nodeKey: string | undefined): SubscriberShard {
    const existing = this.shards.get(key);
    if (existing) return existing;
    if (this.closed) throw new BrokerUnavailableError("the broker is closed");
    const target = this.target;
    const opts: RedisOptions = { ...this.baseOptions(), autoResubscribe: false };
    let redis: Redis;
    if (nodeKey !== undefined) {
      const colon = nodeKey.lastIndexOf(":");
      redis = new Redis({ ...opts, host: nodeKey.slice(0, colon), port: Number(nodeKey.slice(colon + 1)) });
    } else if (target.mode === "sentinel") {
      redis = new Redis({ ...opts, sentinels: target.sentinels, name: target.name });
    } else {
      redis = new Redis((target as { url: string }).url, opts);
    }
    const shard = new SubscriberShard(key, redis, nodeKey !== undefined);
    this.shards.set(key, shard);
    const onMessage = (name: string, payload: string) => {
      shard.received++;
      this.onPubsub(name, payload);
    };
    redis.on(shard.sharded ? "smessage" : "message", onMessage);
    redis.on("ready", () => this.onShardReady(shard));
    redis.on("close", () => this.onShardDown(shard));
    redis.on("error", (error: Error) =>
      this.log.debug({ err: error.message, shard: key }, "redis subscriber error"),
    );
    return shard;
  }

  /** A shard connecting for the first time (cluster: created on first use) gets a moment; a broken one none. */
  private async shardReady(shard: SubscriberShard): Promise<void> {
    if (shard.ready) return;
    if (shard.generation > 0 || !["wait", "connecting", "connect"].includes(shard.redis.status)) {
      throw new BrokerUnavailableError("redis subscriber is not connected");
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        shard.redis.off("ready", onReady);
        reject(new BrokerUnavailableError("redis subscriber did not connect in time"));
      }, this.commandTimeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      shard.redis.once("ready", onReady);
    });
  }

  /**
   * Cluster: a slot moved (resharding, failover). Move each affected channel's subscription to the new owner and
   * fill what it missed meanwhile from history (which moved with the keys), or resync.
   */
  private followSlots(): void {
    for (const state of this.channels.values()) {
      let owner: SubscriberShard;
      try {
        owner = this.shardFor(state.pubsub);
      } catch {
        continue;
      }
      if (owner === state.shard) continue;
      const previous = state.shard;
      state.shard = owner;
      state.live = false;
      owner.restoring++;
      this.log.info({ channel: state.channel, from: previous.key, to: owner.key }, "channel slot moved");
      void this.serial(state.channel, async () => {
        if (previous.ready) await previous.unsubscribe(state.pubsub).catch(() => undefined);
        await this.restore(state, owner.generation);
      }).finally(() => {
        owner.restoring--;
        this.checkHealth();
      });
    }
    for (const shard of this.shards.values()) if (shard.ready) this.armCanary(shard, false);
  }

  /** Cluster: close subscriber connections to nodes that no longer own slots and carry nothing. */
  private pruneShards(): void {
    const masters = new Set((this.command as Cluster).slots.map((owners) => owners?.[0]));
    const used = new Set([...this.channels.values()].map((state) => state.shard));
    for (const [key, shard] of this.shards) {
      if (masters.has(key) || used.has(shard)) continue;
      this.shards.delete(key);
      if (shard.canary !== undefined) this.canaries.delete(shard.canary);
      shard.redis.disconnect();
    }
  }

  private onShardDown(shard: SubscriberShard): void {
    for (const state of this.channels.values()) if (state.shard === shard) state.live = false;
    this.checkHealth();
  }

  /** A subscriber connection (re)connected: resubscribe its channels, then fill each one's hole or resync. */
  private onShardReady(shard: SubscriberShard): void {
    shard.lastReadyAt = Date.now();
    shard.generation++;
    const generation = shard.generation;
    this.armCanary(shard, true);
    for (const state of this.channels.values()) {
      if (state.shard !== shard) continue;
      state.live = false;
      shard.restoring++;
      void this.serial(state.channel, () => this.restore(state, generation)).finally(() => {
        shard.restoring--;
        this.checkHealth();
      });
    }
    this.checkHealth();
  }

  private async restore(state: ChannelState, generation: number): Promise<void> {
    while (
      !this.closed &&
      this.channels.get(state.channel) === state &&
      state.shard.generation === generation
    ) {
      try {
        await state.shard.subscribe(state.pubsub);
        await this.recover(state);
        return;
      } catch (error) {
        this.log.debug({ channel: state.channel, err: String(error) }, "restore failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /**
   * Read history after the cursor (or just the position, for a new subscription) and merge it with the live
   * messages held meanwhile. Runs with the subscription already live, so nothing can fall between the two.
   */
  private async recover(state: ChannelState): Promise<void> {
    do {
      state.overflowed = false;
      const cursor = state.cursor;
      // A new subscription only needs the position: it starts there.
      const history = await this.readHistory(
        state.channel,
        cursor?.offset ?? 0,
        cursor?.epoch,
        cursor === undefined,
      );
      if (state.overflowed) continue;
      const from = cursor ?? { offset: history.offset, epoch: history.epoch };
      const held = state.held;
      state.held = [];
      const step = mergeRecovery(from, history, held);
      this.emitInOrder(state, step.emit);
      state.cursor = step.cursor;
    } while (state.overflowed);
    state.live = true;
  }

  /** Serialize operations on one channel (subscribe, unsubscribe, restore), across successive states. */
  private serial<T>(channel: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(channel) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(channel, tail);
    void tail.then(() => {
      if (this.tails.get(channel) === tail) this.tails.delete(channel);
    });
    return run;
  }

  // ---- messages -------------------------------------------------------------------------------------

  private onPubsub(name: string, payload: string): void {
    const state = this.byPubsub.get(name);
    if (!state) {
      const shard = this.canaries.get(name);
      if (shard) this.onCanary(shard, payload);
      return;
    }
    const decoded = decodePayload(state.channel, payload);
    if (decoded.type === "presence") {
      this.events?.presence(decoded.event);
      return;
    }
    if (decoded.type === "invalid") {
      this.log.warn(
        { channel: channelOfPubsub(name), reason: decoded.reason },
        "dropped a malformed payload",
      );
      return;
    }
    const message = decoded.message;
    const cursor = state.cursor;
    if (!state.live || cursor === undefined) {
      this.hold(state, message);
      return;
    }
    switch (judge(cursor, message)) {
      case "deliver":
        state.cursor = { offset: message.offset, epoch: cursor.epoch };
        this.pending.push(message);
        this.scheduleFlush();
        return;
      case "duplicate":
        return;
      case "new-epoch":
        this.emitInOrder(state, [
          { resync: { offset: message.offset - 1, epoch: message.epoch } },
          { message },
        ]);
        state.cursor = { offset: message.offset, epoch: message.epoch };
        return;
      case "gap":
        // Pub/sub on one connection is ordered and lossless while it lasts, so this is rare (e.g. Redis cut an
        // output buffer). Hold from here and fill from history.
        state.live = false;
        this.hold(state, message);
        void this.serial(state.channel, async () => {
          while (!this.closed && this.channels.get(state.channel) === state && !state.live) {
            try {
              await this.recover(state);
            } catch {
              await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
            }
          }
        });
        return;
    }
  }

  private hold(state: ChannelState, message: BrokerMessage): void {
    if (state.held.length >= MAX_HELD) {
      state.held = [];
      state.overflowed = true;
    }
    state.held.push(message);
  }

  private emitInOrder(state: ChannelState, emissions: readonly Emission[]): void {
    for (const emission of emissions) {
      if ("message" in emission) {
        this.pending.push(emission.message);
      } else {
        this.flush();
        this.log.info(
          { channel: state.channel, position: emission.resync },
          "channel stream has a hole: resync",
        );
        this.events?.resync(state.channel, emission.resync);
      }
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.events?.message(batch);
  }

  // ---- canary ---------------------------------------------------------------------------------------

  private sendCanary(): void {
    const command = this.command;
    if (this.closed || !command || !this.commandReady()) return;
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
      sent.catch((error: unknown) => this.log.debug({ err: String(error) }, "canary publish failed"));
    }
  }

  private onCanary(shard: SubscriberShard, payload: string): void {
    const seq = Number(payload);
    const sentAt = this.canarySent.get(seq);
    if (sentAt === undefined) return;
    this.canarySent.delete(seq);
    this.roundTrip.observe((performance.now() - sentAt) / 1000);
    shard.lastCanaryAt = Date.now();
    this.checkHealth();
  }

  // ---- Broker API -----------------------------------------------------------------------------------

  async publish(channel: string, data: string): Promise<Position> {
    const keys = channelKeys(channel);
    const target = this.scriptTarget(keys.epoch);
    let reply: unknown;
    try {
      reply = await target.client.rtgwPublish(
        keys.offset,
        keys.epoch,
        keys.history,
        keys.adopted,
        pubsubChannel(channel),
        data,
        Date.now(),
        `${target.id}-${newEpoch()}`,
        this.options.historySize,
        this.options.historyTtlSeconds,
        this.target.mode === "cluster" ? "1" : "0",
        target.id,
        target.adopt,
      );
    } catch (error) {
      throw this.scriptFailed(error);
    }
    const [offset, epoch] = publishReply.parse(reply);
    return { offset, epoch };
  }

  async subscribe(channel: string): Promise<void> {
    const existing = this.channels.get(channel);
    if (existing) {
      existing.refs++;
      return existing.joined;
    }
    const pubsub = pubsubChannel(channel);
    const shard = this.shardFor(pubsub);
    const state: ChannelState = {
      channel,
      pubsub,
      refs: 1,
      shard,
      cursor: undefined,
      live: false,
      held: [],
      overflowed: false,
      joined: Promise.resolve(),
    };
    this.channels.set(channel, state);
    this.byPubsub.set(pubsub, state);
    state.joined = this.serial(channel, async () => {
      try {
        await this.shardReady(shard);
        await shard.subscribe(pubsub);
        await this.recover(state);
      } catch (error) {
        if (this.channels.get(channel) === state) this.forget(state);
        if (shard.ready) await shard.unsubscribe(pubsub).catch(() => undefined);
        throw unavailable(error);
      }
    });
    return state.joined;
  }

  async unsubscribe(channel: string): Promise<void> {
    const state = this.channels.get(channel);
    if (!state) return;
    state.refs--;
    if (state.refs > 0) return;
    this.forget(state);
    await this.serial(channel, async () => {
      // A later subscribe to the same channel queues behind this, so the wire order stays SUBSCRIBE/UNSUBSCRIBE.
      if (state.shard.ready && !this.channels.has(channel)) await state.shard.unsubscribe(state.pubsub);
    }).catch((error: unknown) => this.log.debug({ channel, err: String(error) }, "unsubscribe failed"));
  }

  private forget(state: ChannelState): void {
    this.channels.delete(state.channel);
    this.byPubsub.delete(state.pubsub);
  }

  async history(channel: string, since: number, epoch?: string): Promise<HistoryResult> {
    return this.readHistory(channel, since, epoch, false);
  }

  async position(channel: string): Promise<Position> {
    const { offset, epoch } = await this.readHistory(channel, 0, undefined, true);
    return { offset, epoch };
  }

  private async readHistory(
    channel: string,
    since: number,
    epoch: string | undefined,
    /** Only the position (offset and epoch), no messages. */
    positionOnly: boolean,
  ): Promise<HistoryResult> {
    const keys = channelKeys(channel);
    const target = this.scriptTarget(keys.epoch);
    let reply: unknown;
    try {
      reply = await target.client.rtgwHistory(
        keys.offset,
        keys.epoch,
        keys.history,
        keys.adopted,
        since,
        positionOnly ? 0 : this.options.historySize,
        `${target.id}-${newEpoch()}`,
        this.options.historyTtlSeconds,
        target.id,
        target.adopt,
      );
    } catch (error) {
      throw this.scriptFailed(error);
    }
    const [offset, currentEpoch, entries] = historyReply.parse(reply);
    const messages: BrokerMessage[] = [];
    for (const [id, fields] of entries) {
      let data = "null";
      let publishedAt = 0;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === "d") data = fields[i + 1] as string;
        else if (fields[i] === "t") publishedAt = Number(fields[i + 1]);
      }
      messages.push({ channel, offset: Number.parseInt(id, 10), epoch: currentEpoch, data, publishedAt });
    }
    const position = { offset, epoch: currentEpoch };
    const complete = positionOnly || historyComplete(since, epoch, position, messages[0]?.offset);
    return { offset, epoch: currentEpoch, messages, complete };
  }

  // ---- presence -------------------------------------------------------------------------------------

  async presenceJoin(channel: string, member: PresenceEntry): Promise<void> {
    let local = this.localPresence.get(channel);
    if (!local) {
      local = new Map();
      this.localPresence.set(channel, local);
    }
    local.set(member.connectionId, member);
    await this.writePresence(channel, [member], true);
  }

  async presenceLeave(channel: string, member: PresenceEntry): Promise<void> {
    const local = this.localPresence.get(channel);
    local?.delete(member.connectionId);
    if (local?.size === 0) this.localPresence.delete(channel);
    const command = this.command;
    if (!command || !this.commandReady()) throw new BrokerUnavailableError("redis is not connected");
    try {
      await command.rtgwPresenceLeave(
        presenceMembersKey(channel, this.options.nodeId),
        member.connectionId,
        pubsubChannel(channel),
        this.target.mode === "cluster" ? "1" : "0",
        encodePresencePayload("leave", member),
      );
    } catch (error) {
      throw unavailable(error);
    }
  }

  async presenceList(channel: string): Promise<PresenceEntry[]> {
    const command = this.command;
    if (!command || !this.commandReady()) throw new BrokerUnavailableError("redis is not connected");
    let reply: unknown;
    try {
      reply = await command.rtgwPresenceList(
        channelKeys(channel).presenceNodes,
        Date.now(),
        presenceMembersKey(channel, ""),
      );
    } catch (error) {
      throw unavailable(error);
    }
    const members: PresenceEntry[] = [];
    for (const text of presenceListReply.parse(reply)) {
      try {
        const parsed = presenceMember.safeParse(JSON.parse(text));
        if (parsed.success) members.push(parsed.data);
      } catch {
        // A malformed entry is skipped: presence is advisory.
      }
    }
    return members;
  }

  /** Add members (announcing them when `announce`) and push this node's expiry for the channel. */
  private async writePresence(channel: string, members: PresenceEntry[], announce: boolean): Promise<void> {
    const command = this.command;
    if (!command || !this.commandReady()) throw new BrokerUnavailableError("redis is not connected");
    const args: (string | number)[] = [
      channelKeys(channel).presenceNodes,
      presenceMembersKey(channel, this.options.nodeId),
      this.options.nodeId,
      Date.now() + this.presenceTtlMs,
      this.presenceTtlMs,
      pubsubChannel(channel),
      this.target.mode === "cluster" ? "1" : "0",
    ];
    for (const member of members) {
      args.push(
        member.connectionId,
        JSON.stringify(member),
        announce ? encodePresencePayload("join", member) : "",
      );
    }
    try {
      await command.rtgwPresenceJoin(...args);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Keep this node's presence alive; after a reconnect, write every member again (Redis may have lost them). */
  private async refreshPresence(): Promise<void> {
    if (this.closed || !this.commandReady() || this.localPresence.size === 0) return;
    const full = this.presenceLost;
    this.presenceLost = false;
    try {
      await Promise.all(
        [...this.localPresence].map(([channel, members]) =>
          this.writePresence(channel, full ? [...members.values()] : [], false),
        ),
      );
    } catch (error) {
      if (full) this.presenceLost = true;
      this.log.debug({ err: String(error) }, "presence refresh failed");
    }
  }
}
