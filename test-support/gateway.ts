// Start a real gateway process for a test: `node --import tsx gateway/src/main.ts` on free ports.
//
//   const gw = await startGateway({ env: { RTGW_API_KEY: "k".repeat(16), RTGW_ADMIN_KEY: "a".repeat(16) } });
//   new WebSocket(gw.wsUrl); await fetch(`${gw.url}/api/stats`); await fetch(gw.metricsUrl);
//   await fetch(`${gw.adminUrl}/admin/drain`, { method: "POST", headers: { authorization: "Bearer aaaa…" } });
//   await gw.stop();                       // SIGINT, then SIGKILL after a grace period; always resolves
//   gw.kill("SIGTERM"); await gw.exited;    // e.g. a drain: resolves with the exit code
//   after(stopAllGateways);                 // in a describe: nothing outlives the file, even after a timeout
//
// The process is killed when the test process exits, even on failure. stdout/stderr are kept in `logs()`.
import { type ChildProcess, spawn } from "node:child_process";
import { get as httpsGet } from "node:https";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface StartGatewayOptions {
  /** RTGW_* (and other) variables; RTGW_PORT/RTGW_METRICS_PORT default to free ports. */
  env?: Record<string, string>;
  /** Bind address and the host in the returned URLs (default 127.0.0.1). */
  host?: string;
  /** How long to wait for /readyz (ms, default 20000). */
  readyTimeoutMs?: number;
  /** Wait for /readyz 200 (default true); false waits only for /healthz (e.g. broker down at start). */
  waitReady?: boolean;
  /** The gateway serves TLS (RTGW_TLS_* in env): URLs are https:// and wss://, readiness is checked trusting `ca`. */
  tls?: { ca: string };
}

export interface GatewayProcess {
  /** http://host:port */
  url: string;
  /** ws://host:port/ws */
  wsUrl: string;
  /** http://host:metricsPort/metrics */
  metricsUrl: string;
  /** http://host:metricsPort: the internal port, where /admin/* lives (bearer RTGW_ADMIN_KEY) */
  adminUrl: string;
  port: number;
  metricsPort: number;
  pid: number;
  /** Resolves with the exit code (signal exits map to 128 + signal number). */
  exited: Promise<number>;
  /** Stop it: SIGINT, then SIGKILL after `graceMs` (default 5000). Idempotent. */
  stop(graceMs?: number): Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  /** Everything the process wrote so far (stdout and stderr). */
  logs(): string;
}

/** GET over TLS trusting `ca` (fetch has no per-request CA); true on a 2xx. */
function httpsOk(url: string, ca: string): Promise<boolean> {
  return new Promise((resolveOk, reject) => {
    const req = httpsGet(url, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolveOk((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

const live = new Set<ChildProcess>();
const started = new Set<GatewayProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * Stop every gateway this process started and that still runs. Put it in an `after` hook: it runs even when
 * a test timed out while awaiting something, so a hung test cannot keep the test process alive.
 */
export async function stopAllGateways(): Promise<void> {
  await Promise.all([...started].map((gw) => gw.stop(2000)));
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export async function startGateway(options: StartGatewayOptions = {}): Promise<GatewayProcess> {
  const host = options.host ?? "127.0.0.1";
  const port = Number(options.env?.RTGW_PORT ?? (await freePort(host)));
  const metricsPort = Number(options.env?.RTGW_METRICS_PORT ?? (await freePort(host)));
  const child = spawn(process.execPath, ["--import", "tsx", "gateway/src/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      RTGW_LOG_LEVEL: "warn",
      RTGW_HOST: host,
      ...options.env,
      RTGW_PORT: String(port),
      RTGW_METRICS_PORT: String(metricsPort),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number>((resolveExit) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolveExit(code ?? 128 + (SIGNALS[signal ?? ""] ?? 0));
    });
  });
  let exitCode: number | undefined;
  void exited.then((c) => {
    exitCode = c;
  });

  const url = `${options.tls ? "https" : "http"}://${host}:${port}`;
  const gw: GatewayProcess = {
    url,
    wsUrl: `${options.tls ? "wss" : "ws"}://${host}:${port}/ws`,
    metricsUrl: `http://${host}:${metricsPort}/metrics`,
    adminUrl: `http://${host}:${metricsPort}`,
    port,
    metricsPort,
    pid: child.pid ?? -1,
    exited,
    kill: (signal = "SIGTERM") => {
      if (exitCode === undefined) child.kill(signal);
    },
    async stop(graceMs = 5000) {
      if (exitCode !== undefined) return exitCode;
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    logs: () => output,
  };
  started.add(gw);
  void exited.then(() => started.delete(gw));

  const path = options.waitReady === false ? "/healthz" : "/readyz";
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  while (true) {
    if (exitCode !== undefined) throw new Error(`gateway exited with ${exitCode} before ready:\n${output}`);
    try {
      const ok = options.tls
        ? await httpsOk(`${url}${path}`, options.tls.ca)
        : (await fetch(`${url}${path}`)).ok;
      if (ok) return gw;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await gw.stop(1000);
      throw new Error(`gateway not ready on ${url} within timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
