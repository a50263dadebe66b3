// Server processes for the bench and the box run: our gateway, the Socket.IO, bare uWS and Soketi baselines, and
// redis-server, each on a free loopback port, with RSS readings; every one is killed on the way out.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../../dev-cluster/ports.js";

const here = fileURLToPath(import.meta.url);
const extension = path.extname(here);
/** The repository root in development (`.ts` under tsx), or `dist/` when compiled. */
const ROOT = path.resolve(path.dirname(here), "../../..");
const TS_ARGS = extension === ".ts" ? ["--import", "tsx"] : [];
/** The checkout itself (ROOT's parent when compiled), where loadtest/peers/ lives. */
const CHECKOUT = extension === ".ts" ? ROOT : path.dirname(ROOT);
/** Soketi's own folder: its package.json and lock, installed by the bench on first use, never by `npm ci`. */
export const SOKETI_DIR = path.join(CHECKOUT, "loadtest/peers/soketi");

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

// Ports for the servers the bench starts: the dev cluster's helper (below the ephemeral range, so an outgoing
// connection's source port cannot take one before its server binds it).
export { freePort };

export interface ServerProcess {
  name: string;
  port: number;
  pid: number;
  /** Resident set size now, in bytes (from /proc). */
  rss(): number;
  /** CPU time used so far (user + system), in seconds. */
  cpuSeconds(): number;
  /** SIGKILL; with `graceMs`, SIGINT first and SIGKILL only if it has not exited by then (a --cpu-prof writes on exit). */
  stop(graceMs?: number): Promise<void>;
  logs(): string;
}

/** The fields of a /proc/<pid>/stat line after the command name (which may hold spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of a /proc/<pid>/stat line (fields 14 and 15), in seconds: clock ticks of 1/100 s on Linux. */
export function cpuSecondsFromStat(stat: string, ticksPerSecond = 100): number {
  const fields = statFields(stat);
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** cutime + cstime (fields 16 and 17): CPU of the children this process has waited for, in seconds. */
export function reapedChildrenCpuSecondsFromStat(stat: string, ticksPerSecond = 100): number {
  const fields = statFields(stat);
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

async function waitHttp(
  url: string,
  child: ChildProcess,
  logs: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode}:\n${logs().slice(-2000)}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${url}:\n${logs().slice(-2000)}`);
}

async function launch(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyUrl: (port: number) => string,
  port: number,
): Promise<ServerProcess> {
  const child = spawn(args[0] as string, args.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 0) => {
    if (running() && graceMs > 0) {
      child.kill("SIGINT");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    if (running()) {
      child.kill("SIGKILL");
      await exited;
    }
    live.delete(child);
  };
  try {
    await waitHttp(readyUrl(port), child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  const pid = child.pid ?? -1;
  return {
    name,
    port,
    pid,
    rss: () => rssOf(pid),
    cpuSeconds: () => cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, "utf8")),
    stop,
    logs: () => output,
  };
}

export type SystemName = "rtgw" | "socketio" | "uws" | "soketi";

export const BENCH_API_KEY = "bench-api-key-0123456789";
/** The one app Soketi serves in the bench (its array app manager, from the environment). */
export const SOKETI_APP = { id: "bench-app", key: "bench-app-key", secret: "bench-app-secret-0123456789" };

/**
 * `npm ci` in loadtest/peers/soketi when Soketi is not there yet (bounded: 5 minutes). Install scripts are
 * skipped: uWS ships its binaries, and the native extras (bufferutil, msgpackr-extract) have JS fallbacks.
 */
export async function ensureSoketiInstalled(log: (line: string) => void): Promise<string> {
  const entry = path.join(SOKETI_DIR, "node_modules/@soketi/soketi/bin/server.js");
  if (existsSync(entry)) return entry;
  log(`installing Soketi into ${SOKETI_DIR} (npm ci, once)`);
  await new Promise<void>((resolve, reject) => {
    execFile(
      "npm",
      ["ci", "--no-audit", "--no-fund", "--ignore-scripts"],
      { cwd: SOKETI_DIR, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`npm ci in ${SOKETI_DIR} failed: ${stderr.slice(-2000)}`)) : resolve(),
    );
  });
  if (!existsSync(entry)) throw new Error(`npm ci in ${SOKETI_DIR} did not install ${entry}`);
  return entry;
}

/**
 * Soketi's settings for one process: our app, loopback only (its HTTP/WS port, its /usage server, and its
 * node-discover UDP hellos sent to 127.0.0.1 instead of the broadcast address), no rate limits, and the Redis
 * adapter when `redisUrl` is given.
 */
export function soketiEnv(
  ports: { http: number; metrics: number; discovery: number },
  redisUrl?: string,
): Record<string, string> {
  const redis = redisUrl ? new URL(redisUrl) : null;
  return {
    SOKETI_HOST: "127.0.0.1",
    SOKETI_PORT: String(ports.http),
    SOKETI_METRICS_HOST: "127.0.0.1",
    SOKETI_METRICS_SERVER_PORT: String(ports.metrics),
    SOKETI_CLUSTER_PORT: String(ports.discovery),
    SOKETI_CLUSTER_UNICAST_ADDRESSES: "127.0.0.1",
    SOKETI_DEFAULT_APP_ID: SOKETI_APP.id,
    SOKETI_DEFAULT_APP_KEY: SOKETI_APP.key,
    SOKETI_DEFAULT_APP_SECRET: SOKETI_APP.secret,
    // Its HTTP API refuses traffic above this share of memory in use; the machine is shared, so never.
    SOKETI_HTTP_ACCEPT_TRAFFIC_MEMORY_THRESHOLD: "100",
    ...(redis
      ? {
          SOKETI_ADAPTER_DRIVER: "redis",
          SOKETI_DB_REDIS_HOST: redis.hostname,
          SOKETI_DB_REDIS_PORT: redis.port,
        }
      : {}),
  };
}

/** One server process of a system, on the memory broker or sharing `redisUrl`. */
export async function startSystem(
  system: SystemName,
  redisUrl?: string,
  extraEnv: Record<string, string> = {},
  /** Flags for node itself (our gateway only), e.g. --cpu-prof, which NODE_OPTIONS does not allow. */
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  if (system === "rtgw") {
    const env: Record<string, string> = {
      RTGW_HOST: "127.0.0.1",
      RTGW_PORT: String(port),
      RTGW_METRICS_PORT: String(await freePort()),
      RTGW_API_KEY: BENCH_API_KEY,
      RTGW_LOG_LEVEL: "warn",
      RTGW_BROKER: redisUrl ? "redis" : "memory",
      ...(redisUrl ? { RTGW_REDIS_URL: redisUrl } : {}),
      ...extraEnv,
    };
    return launch(
      "rtgw",
      [process.execPath, ...nodeArgs, ...TS_ARGS, path.join(ROOT, `cli/rtgw${extension}`), "gateway"],
      env,
      (p) => `http://127.0.0.1:${p}/readyz`,
      port,
    );
  }
  if (system === "soketi") {
    const entry = await ensureSoketiInstalled((line) => process.stderr.write(`bench: ${line}\n`));
    const ports = { http: port, metrics: await freePort(), discovery: await freePort() };
    return launch(
      "soketi",
      [process.execPath, entry, "start"],
      { ...soketiEnv(ports, redisUrl), ...extraEnv },
      (p) => `http://127.0.0.1:${p}/ready`,
      port,
    );
  }
  const entry = path.join(
    path.dirname(here),
    "systems",
    `${system === "uws" ? "bare-uws" : "socketio"}${extension}`,
  );
  const env: Record<string, string> = {
    BENCH_PORT: String(port),
    ...(redisUrl ? { BENCH_REDIS_URL: redisUrl } : {}),
    ...extraEnv,
  };
  return launch(
    system,
    [process.execPath, ...TS_ARGS, entry],
    env,
    (p) => `http://127.0.0.1:${p}/api/stats`,
    port,
  );
}

/** The WebSocket URL load connections open on a system's server. */
export function wsUrlOf(system: SystemName, port: number): string {
  if (system === "socketio") return `ws://127.0.0.1:${port}/socket.io/`;
  if (system === "soketi") return `ws://127.0.0.1:${port}/app/${SOKETI_APP.key}`;
  return `ws://127.0.0.1:${port}/ws`;
}

export interface RedisProcess {
  url: string;
  rss(): number;
  /** CPU time the server has used so far (user + system), in seconds. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Our own redis-server on a free port, without persistence. */
export async function startRedisServer(): Promise<RedisProcess> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxclients",
      "10000",
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const { Redis } = await import("ioredis");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(port, "127.0.0.1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") {
        client.disconnect();
        break;
      }
    } catch {
      client.disconnect();
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`redis-server did not start on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    rss: () => rssOf(child.pid ?? -1),
    cpuSeconds: () => cpuSecondsFromStat(readFileSync(`/proc/${child.pid ?? -1}/stat`, "utf8")),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      live.delete(child);
    },
  };
}
