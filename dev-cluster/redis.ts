// The dev cluster's Redis: one redis-server from PATH on a free loopback port, no persistence, in a temporary
// directory. Started and stopped with the cluster; a clear error when redis-server is not installed.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

export interface DevRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** One PING over a raw socket (no client library, no redis-cli needed). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    let got = "";
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on("error", () => done(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => {
      got += d.toString();
      if (got.includes("\r\n")) done(got.startsWith("+PONG"));
    });
  });
}

export async function startDevRedis(timeoutMs = 10_000): Promise<DevRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "rtgw-dev-redis-"));
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  // Last resort when the dev cluster dies without stopping (an uncaught error): no redis-server outlives it.
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === "ENOENT"
            ? "redis-server not found on PATH: install Redis (e.g. apt-get install redis-server) and try again"
            : `redis-server: ${err.message}`,
        ),
      ),
    );
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${stderr.trim()}`)));
  });
  const stop = async () => {
    process.removeListener("exit", kill);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const up = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ping(port))) {
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer PING on ${port} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    await Promise.race([up, failed]);
  } catch (err) {
    await stop();
    throw err;
  }
  failed.catch(() => undefined);
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid ?? 0, stop };
}
