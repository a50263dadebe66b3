// Redis for the model test: a master and an asynchronous replica, as in production. The replica's replication
// link runs through a proxy the test can cut (writes acknowledged by the master alone, lost on failover), and
// the gateways reach "Redis" through another proxy that a failover repoints at the promoted replica (what
// Sentinel or a VIP does). The roles swap on every failover; the old master comes back empty as the new replica.
import type { Redis } from "ioredis";
import { channelKeys } from "../../gateway/src/broker/redis/keys.js";
import { type SwitchProxy, startSwitchProxy } from "../../gateway/test/redis/switch-proxy.js";
import { type RedisServer, startRedis } from "../../test-support/redis.js";
import { until } from "../../test-support/wait.js";

interface Member {
  server: RedisServer;
  admin: Redis;
}

export class RedisPair {
  #down = false;
  #linkCut = false;

  private constructor(
    private master: Member,
    private replica: Member,
    /** The gateways' RTGW_REDIS_URL. */
    readonly front: SwitchProxy,
    /** The replica's replication link. */
    readonly link: SwitchProxy,
  ) {}

  static async start(): Promise<RedisPair> {
    const a = await startRedis();
    const link = await startSwitchProxy(a.port);
    const b = await startRedis({ replicaOf: link.port });
    const front = await startSwitchProxy(a.port);
    const pair = new RedisPair(
      { server: a, admin: a.client() },
      { server: b, admin: b.client() },
      front,
      link,
    );
    await pair.#linkUp();
    return pair;
  }

  get url(): string {
    return this.front.url;
  }

  /** Partition the replica: what the master acknowledges from now on exists only there. */
  cutReplication(): void {
    this.link.cut();
    this.#linkCut = true;
  }

  /** SIGKILL the master (no persistence: its data is gone). */
  async crash(): Promise<void> {
    this.cutReplication();
    await this.master.server.kill();
    this.#down = true;
  }

  /** Start the crashed master again, empty; the replica resyncs from it (and so is empty too). */
  async restartEmpty(): Promise<void> {
    await this.master.server.restart();
    await this.#command(this.master, (r) => r.replicaof("NO", "ONE"));
    this.#down = false;
    await this.#relink();
  }

  /** Kill the master, promote the replica (with whatever it had copied), point the gateways at it. */
  async failover(): Promise<void> {
    const old = this.master;
    await old.server.kill();
    await this.#command(this.replica, (r) => r.replicaof("NO", "ONE"));
    this.front.point(this.replica.server.port);
    this.master = this.replica;
    this.replica = old;
    // The old master returns empty as the new replica.
    this.link.cut();
    await old.server.restart();
    await this.#command(old, (r) => r.replicaof("127.0.0.1", this.link.port));
    await this.#relink();
  }

  /** Delete a channel's offset, epoch and history keys on the master: what their TTL does to an idle channel. */
  async expire(channel: string): Promise<void> {
    const keys = channelKeys(channel);
    await this.master.admin.del(keys.offset, keys.epoch, keys.history);
  }

  /** Undo every fault: the master up, the replica linked. True if that restarted Redis (new epochs). */
  async repair(): Promise<boolean> {
    if (this.#down) {
      await this.restartEmpty();
      return true;
    }
    if (this.#linkCut) await this.#relink();
    return false;
  }

  async stop(): Promise<void> {
    await this.front.close();
    await this.link.close();
    await this.replica.server.stop();
    await this.master.server.stop();
  }

  async #relink(): Promise<void> {
    this.link.point(this.master.server.port);
    this.#linkCut = false;
    await this.#linkUp();
  }

  async #linkUp(): Promise<void> {
    await until(
      "the replica's link to the master",
      async () =>
        (await this.replica.admin.info("replication").catch(() => "")).includes("master_link_status:up"),
      20_000,
    );
  }

  /** A command on a server that may still be reconnecting after a restart. */
  async #command(member: Member, run: (admin: Redis) => Promise<unknown>): Promise<void> {
    await until(
      "a Redis admin command",
      () =>
        run(member.admin).then(
          () => true,
          () => false,
        ),
      10_000,
    );
  }
}
