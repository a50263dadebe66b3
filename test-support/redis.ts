// Real redis-server processes for tests: a standalone server, or a three-master Redis Cluster, each on free
// loopback ports, in a temporary directory, killed (with the directory removed) by stop() and at process exit.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort } from "./ports.js";

const exec = promisify(execFile);
const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});

export { freePort };

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ping(port: number): Promise<boolean> {
  const { stdout } = await exec("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "PING"], {
    timeout: 2000,
  });
  return stdout.trim() === "PONG";
}

export interface RedisServer {
  port: number;
  url: string;
  /** A client for assertions (PUBSUB NUMSUB, FLUSHALL, TTL...), closed by stop(). */
  client(): Redis;
  /** SIGKILL the server (an outage; data is gone: it runs without persistence). */
  kill(): Promise<void>;
  /** Start it again on the same port, empty. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that holds connections but answers nothing. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

function spawnRedis(args: string[], dir: string): ChildProcess {
  const child = spawn("redis-server", ["--save", "", "--appendonly", "no", "--dir", dir, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  alive.add(child);
  child.once("exit", () => alive.delete(child));
  return child;
}

async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

export interface RedisServerOptions {
  /** Start as a replica of the server on this port (asynchronous replication, as in production). */
  replicaOf?: number;
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "rtgw-redis-"));
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];
  const replica =
    options.replicaOf === undefined ? [] : ["--replicaof", "127.0.0.1", String(options.replicaOf)];
  const launch = async () => {
    child = spawnRedis(["--port", String(port), "--bind", "127.0.0.1", ...replica], dir);
    await waitFor(`redis-server on ${port}`, () => ping(port));
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client() {
      const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      client.on("error", () => undefined);
      clients.push(client);
      return client;
    },
    kill: () => killChild(child),
    restart: launch,
    freeze: () => child?.kill("SIGSTOP"),
    thaw: () => child?.kill("SIGCONT"),
    async stop() {
      for (const client of clients) client.disconnect();
      child?.kill("SIGCONT");
      await killChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisClusterServer {
  ports: number[];
  /** Comma-separated seeds, for RTGW_REDIS_URL with RTGW_REDIS_CLUSTER=true. */
  url: string;
  /** A client to one node (e.g. for PUBSUB SHARDNUMSUB on the node that owns a slot). */
  nodeClient(port: number): Redis;
  /** SIGKILL one master (its slots become unavailable: no replicas). */
  killNode(port: number): Promise<void>;
  /** Start it again, empty but with its cluster config, and wait until the cluster is ok. */
  restartNode(port: number): Promise<void>;
  /** SIGSTOP / SIGCONT one node: connections stay open, nothing is answered. */
  freezeNode(port: number): void;
  thawNode(port: number): void;
  stop(): Promise<void>;
}

/** Three masters, no replicas, slots split evenly by `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<RedisClusterServer> {
  const dir = mkdtempSync(join(tmpdir(), "rtgw-redis-cluster-"));
  const ports: number[] = [];
  const children = new Map<number, ChildProcess>();
  const launchers = new Map<number, () => ChildProcess>();
  const clients: Redis[] = [];
  const stop = async () => {
    for (const client of clients) client.disconnect();
    for (const child of children.values()) child.kill("SIGCONT");
    await Promise.all([...children.values()].map((child) => killChild(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  const clusterOk = (port: number) =>
    waitFor(`cluster_state:ok on ${port}`, async () => {
      const { stdout } = await exec("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "CLUSTER", "INFO"]);
      return stdout.includes("cluster_state:ok");
    });
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const busPort = await freePort();
      ports.push(port);
      const nodeDir = join(dir, String(port));
      rmSync(nodeDir, { recursive: true, force: true });
      await exec("mkdir", ["-p", nodeDir]);
      const launch = () =>
        spawnRedis(
          [
            "--port",
            String(port),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            String(busPort),
            "--cluster-config-file",
            join(nodeDir, "nodes.conf"),
            "--cluster-node-timeout",
            "2000",
          ],
          nodeDir,
        );
      launchers.set(port, launch);
      children.set(port, launch());
    }
    for (const port of ports) await waitFor(`cluster node on ${port}`, () => ping(port));
    await exec(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
    for (const port of ports) await clusterOk(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ports,
    url: ports.map((p) => `redis://127.0.0.1:${p}`).join(","),
    nodeClient(port: number) {
      const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
      client.on("error", () => undefined);
      clients.push(client);
      return client;
    },
    killNode: (port) => killChild(children.get(port)),
    freezeNode: (port) => children.get(port)?.kill("SIGSTOP"),
    thawNode: (port) => children.get(port)?.kill("SIGCONT"),
    async restartNode(port) {
      const launch = launchers.get(port);
      if (!launch) throw new Error(`no cluster node on ${port}`);
      children.set(port, launch());
      await waitFor(`cluster node on ${port}`, () => ping(port));
      for (const p of ports) await clusterOk(p);
    },
    stop,
  };
}

export interface RedisSentinelServer {
  /** redis+sentinel://127.0.0.1:<sentinel port>/<master name> */
  url: string;
  master: RedisServer;
  stop(): Promise<void>;
}

/** One master and one Sentinel (`redis-server <conf> --sentinel`) watching it as `rtgw-master`. */
export async function startRedisSentinel(): Promise<RedisSentinelServer> {
  const master = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "rtgw-sentinel-"));
  const port = await freePort();
  const conf = join(dir, "sentinel.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor rtgw-master 127.0.0.1 ${master.port} 1`,
      "",
    ].join("\n"),
  );
  const child = spawn("redis-server", [conf, "--sentinel"], { stdio: ["ignore", "ignore", "pipe"] });
  alive.add(child);
  child.once("exit", () => alive.delete(child));
  const stop = async () => {
    await killChild(child);
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`sentinel on ${port}`, async () => {
      const { stdout } = await exec("redis-cli", [
        "-p",
        String(port),
        "SENTINEL",
        "get-master-addr-by-name",
        "rtgw-master",
      ]);
      return stdout.includes(String(master.port));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+sentinel://127.0.0.1:${port}/rtgw-master`, master, stop };
}
