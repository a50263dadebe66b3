// Churn: ≥50,000 connections opened and closed in waves from several client processes and source
// addresses. Afterwards the gateway's connections, channels and RSS are back near their baseline.
// Also measures RSS per idle connection while 10,000 are held.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { GatewayProcess } from "../../test-support/gateway.js";
import { startGateway } from "../../test-support/gateway.js";
import { sleep } from "../../test-support/wait.js";

const WORKERS = 4;
const PER_WORKER = 12_500; // 50,000 in all (two rounds)
const WAVE = 250;

const rssBytes = (pid: number) => {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1]) * 1024;
};
const stats = async (gw: GatewayProcess) =>
  (await (await fetch(`${gw.url}/api/stats`)).json()) as { connections: number; channels: number };

interface Worker {
  result: Promise<{ opened: number; failed: number }>;
  /** Resolves with the first line (hold mode: once everything is held). */
  firstLine: Promise<string>;
  release(): void;
}

function worker(port: number, index: number, total: number, hold = false): Worker {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "gateway/test/churn-worker.ts",
      JSON.stringify({ port, localAddress: `127.0.${10 + index}.${1 + index}`, total, wave: WAVE, hold }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let out = "";
  let gotLine: (line: string) => void = () => {};
  const firstLine = new Promise<string>((r) => {
    gotLine = r;
  });
  child.stdout.on("data", (d) => {
    out += d.toString();
    if (out.includes("\n")) gotLine(out.split("\n")[0] as string);
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
  const result = new Promise<{ opened: number; failed: number }>((resolve, reject) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").at(-1) ?? "";
      code === 0 ? resolve(JSON.parse(last)) : reject(new Error(`worker exited ${code}: ${out}`));
    }),
  );
  return { result, firstLine, release: () => child.stdin.end() };
}

describe("churn", { timeout: 240_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({ env: { RTGW_LOG_LEVEL: "warn" } });
  });
  after(() => gw.stop());

  it("holds 10,000 idle connections in little memory", async () => {
    // Warm up allocator and JIT with one small round first, so the baseline is not a cold process.
    await Promise.all([0, 1].map((i) => worker(gw.port, i, 1000).result));
    await sleep(500);
    const base = rssBytes(gw.pid);
    const held = Array.from({ length: WORKERS }, (_, i) => worker(gw.port, i, 2500, true));
    const lines = await Promise.all(held.map((w) => w.firstLine));
    const count = lines.reduce((n, l) => n + (JSON.parse(l) as { held: number }).held, 0);
    assert.equal(count, 10_000);
    assert.equal((await stats(gw)).connections, 10_000);
    await sleep(300);
    const perConnection = (rssBytes(gw.pid) - base) / count;
    process.stdout.write(`# RSS per idle connection: ${(perConnection / 1024).toFixed(2)} KB\n`);
    for (const w of held) w.release();
    await Promise.all(held.map((w) => w.result));
    assert.ok(perConnection < 4 * 1024, `RSS per idle connection ${perConnection} bytes`);
  });

  it(`opens and closes ${WORKERS * PER_WORKER} connections in waves; nothing leaks`, async () => {
    const deadline = Date.now() + 10_000;
    while ((await stats(gw)).connections !== 0) {
      assert.ok(Date.now() < deadline);
      await sleep(50);
    }
    // Two rounds of half the connections each: RSS may grow in the first (allocator arenas, V8 heap sizing),
    // but a leak would grow it again in the second.
    const baseRss = rssBytes(gw.pid);
    const afterRound: number[] = [];
    for (let round = 0; round < 2; round++) {
      const t0 = Date.now();
      const results = await Promise.all(
        Array.from({ length: WORKERS }, (_, i) => worker(gw.port, i, PER_WORKER / 2).result),
      );
      const opened = results.reduce((n, r) => n + r.opened, 0);
      const failed = results.reduce((n, r) => n + r.failed, 0);
      process.stdout.write(
        `# churn round ${round + 1}: ${opened} opened, ${failed} failed in ${Date.now() - t0} ms\n`,
      );
      assert.equal(opened, (WORKERS * PER_WORKER) / 2);
      assert.equal(failed, 0);
      const settle = Date.now() + 20_000;
      let s = await stats(gw);
      while (s.connections !== 0 || s.channels !== 0) {
        assert.ok(Date.now() < settle, `not back to baseline: ${JSON.stringify(s)}`);
        await sleep(100);
        s = await stats(gw);
      }
      afterRound.push(rssBytes(gw.pid));
    }
    const [first, second] = afterRound as [number, number];
    const mb = (b: number) => (b / 1048576).toFixed(1);
    process.stdout.write(
      `# RSS: base ${mb(baseRss)} MB, after round 1 ${mb(first)} MB, after round 2 ${mb(second)} MB\n`,
    );
    assert.ok(second - first < 20 * 1048576, `RSS kept growing: ${mb(first)} → ${mb(second)} MB`);
    assert.ok(second - baseRss < 60 * 1048576, `RSS grew ${mb(second - baseRss)} MB`);
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
  });
});
