// The Redis broker's connections: one command connection (a Cluster client in cluster mode, whose per-node
// connections run the channel scripts) and subscriber connections opened on demand. Options are chosen so a
// command never waits for Redis: no offline queue, no retries, a command timeout.
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { BrokerUnavailableError } from "../broker.js";
import {
  HISTORY_SCRIPT,
  PRESENCE_JOIN_SCRIPT,
  PRESENCE_LEAVE_SCRIPT,
  PRESENCE_LIST_SCRIPT,
  PUBLISH_SCRIPT,
} from "./scripts.js";
import { nodeOptions, type RedisTarget } from "./target.js";

/** Methods ioredis' defineCommand adds (EVALSHA, falling back to EVAL on NOSCRIPT). */
export interface ScriptCommands {
  rtgwPublish(...args: (string | number)[]): Promise<unknown>;
  rtgwHistory(...args: (string | number)[]): Promise<unknown>;
  rtgwPresenceJoin(...args: (string | number)[]): Promise<unknown>;
  rtgwPresenceLeave(...args: (string | number)[]): Promise<unknown>;
  rtgwPresenceList(...args: (string | number)[]): Promise<unknown>;
}

export type CommandClient = (Redis | Cluster) & ScriptCommands;

/** The scripts on a channel's offset, epoch, history and adoption keys (KEYS: those four). */
const CHANNEL_SCRIPTS: Array<["rtgwPublish" | "rtgwHistory", string]> = [
  ["rtgwPublish", PUBLISH_SCRIPT],
  ["rtgwHistory", HISTORY_SCRIPT],
];

export interface ConnectionOptions {
  nodeId: string;
  commandTimeoutMs: number;
  clusterRefreshMs: number;
}

/** What the command connection reports; the broker wires these to its parts. */
export interface CommandEvents {
  /** The command connection (cluster: the Cluster client) is ready. */
  ready(): void;
  closed(): void;
  /** A server's connection is ready (its id can be read) or closed (its id is void): "main", or a node key. */
  serverReady(key: string, connection: Redis): void;
  serverClosed(key: string): void;
  /** Cluster: the slot table was re-read. */
  slotsRefreshed(): void;
}

export function unavailable(error: unknown): BrokerUnavailableError {
  if (error instanceof BrokerUnavailableError) return error;
  return new BrokerUnavailableError(`redis: ${error instanceof Error ? error.message : String(error)}`);
}

export class Connections {
  command: CommandClient | undefined;
  /**
   * Cluster: each node's own connection, on which the channel scripts run directly, never redirected: a MOVED
   * would run them on another server with this one's id (a promoted replica holds the stamps its master wrote).
   */
  readonly nodeConnections = new Map<string, Redis & ScriptCommands>();

  constructor(
    readonly target: RedisTarget,
    private readonly o: ConnectionOptions,
    private readonly log: Logger,
  ) {}

  get cluster(): boolean {
    return this.target.mode === "cluster";
  }

  commandReady(): boolean {
    return this.command?.status === "ready";
  }

  /** The command client, when it is ready; else the caller gets `unavailable`. */
  readyCommand(): CommandClient {
    const command = this.command;
    if (!command || !this.commandReady()) throw new BrokerUnavailableError("redis is not connected");
    return command;
  }

  /** Cluster: the owners of each slot as the Cluster client last read them (first: the master). */
  slots(): Array<string[] | undefined> {
    return this.command instanceof Cluster ? this.command.slots : [];
  }

  /** The keys of the command connections scripts run on: "main", or each master owning slots. */
  serverKeys(): string[] {
    if (!this.cluster) return this.commandReady() ? ["main"] : [];
    const owners = new Set<string>();
    for (const slot of this.slots()) if (slot?.[0]) owners.add(slot[0]);
    return [...owners];
  }

  connectionOf(key: string): Redis | undefined {
    const command = this.command;
    if (!command) return undefined;
    return command instanceof Cluster ? this.nodeConnections.get(key) : command;
  }

  private baseOptions(): RedisOptions {
    return {
      ...nodeOptions(this.target),
      // No offline queue and no retries: a command while Redis is away fails at once (BrokerUnavailableError),
      // and one in flight when the connection drops is rejected, never silently replayed or dropped.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.o.commandTimeoutMs,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 1000),
      connectionName: `rtgw:${this.o.nodeId}`,
    };
  }

  openCommand(events: CommandEvents, isClosed: () => boolean): CommandClient {
    const target = this.target;
    let client: Redis | Cluster;
    if (target.mode === "cluster") {
      const { enableOfflineQueue: _offline, retryStrategy: _retry, ...redisOptions } = this.baseOptions();
      client = new Cluster(target.seeds, {
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
        slotsRefreshInterval: this.o.clusterRefreshMs,
        redisOptions,
      });
      client.on("ready", () => events.ready());
      // Each node connection: its id is read when it is ready and forgotten when it closes (ioredis opens a new
      // connection object, and emits +node again, when it reconnects to that address).
      client.on("+node", (node: Redis) => {
        const key = `${node.options.host}:${node.options.port}`;
        for (const [name, lua] of CHANNEL_SCRIPTS) node.defineCommand(name, { lua, numberOfKeys: 4 });
        this.nodeConnections.set(key, node as Redis & ScriptCommands);
        node.on("ready", () => events.serverReady(key, node));
        node.on("close", () => events.serverClosed(key));
      });
      client.on("-node", (node: Redis, key: string) => {
        if (this.nodeConnections.get(key) === node) this.nodeConnections.delete(key);
      });
      client.on("refresh", () => {
        if (!isClosed()) events.slotsRefreshed();
      });
    } else {
      const opts = { ...this.baseOptions(), enableAutoPipelining: true };
      const main =
        target.mode === "sentinel"
          ? new Redis({ ...opts, sentinels: target.sentinels, name: target.name })
          : new Redis(target.url, opts);
      client = main;
      main.on("ready", () => {
        events.serverReady("main", main);
        events.ready();
      });
      main.on("close", () => events.serverClosed("main"));
    }
    client.on("error", (error: Error) =>
      this.log.debug({ err: error.message }, "redis command connection error"),
    );
    client.on("close", () => events.closed());
    const scripts: Array<[keyof ScriptCommands, string, number]> = [
      ...CHANNEL_SCRIPTS.map(([name, lua]) => [name, lua, 4] as [keyof ScriptCommands, string, number]),
      ["rtgwPresenceJoin", PRESENCE_JOIN_SCRIPT, 2],
      ["rtgwPresenceLeave", PRESENCE_LEAVE_SCRIPT, 1],
      ["rtgwPresenceList", PRESENCE_LIST_SCRIPT, 1],
    ];
    for (const [name, lua, numberOfKeys] of scripts) client.defineCommand(name, { lua, numberOfKeys });
    this.command = client as CommandClient;
    return this.command;
  }

  /** A subscriber connection: to one cluster node (`nodeKey`), else to the target itself. No auto-resubscribe. */
  openSubscriber(nodeKey: string | undefined): Redis {
    const target = this.target;
    const opts: RedisOptions = { ...this.baseOptions(), autoResubscribe: false };
    if (nodeKey !== undefined) {
      const colon = nodeKey.lastIndexOf(":");
      return new Redis({ ...opts, host: nodeKey.slice(0, colon), port: Number(nodeKey.slice(colon + 1)) });
    }
    if (target.mode === "sentinel")
      return new Redis({ ...opts, sentinels: target.sentinels, name: target.name });
    return new Redis((target as { url: string }).url, opts);
  }

  /** A script's error: a redirect means our slot table is stale; refresh it (the caller gets `unavailable`). */
  scriptFailed(error: unknown): BrokerUnavailableError {
    const message = error instanceof Error ? error.message : String(error);
    if (this.command instanceof Cluster && /^(MOVED|ASK) /.test(message)) {
      this.command.refreshSlotsCache();
    }
    return unavailable(error);
  }
}
