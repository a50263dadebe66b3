// The box end to end at a tiny size, with one load worker killed mid-run: box.json and box.html are still written,
// the dead worker is named with its figures missing, the verdict is FAIL, and no process the run started outlives it.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { type BoxResult, runBox } from "../src/box/run-box.js";

const dir = mkdtempSync(path.join(tmpdir(), "rtgw-box-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** This process's live children, with their command lines (zombies and exited ones left out). */
function children(): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== process.pid || fields[0] === "Z") continue;
      out.push({
        pid: Number(entry),
        cmd: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " "),
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe("rtgw bench box", { timeout: 120_000 }, () => {
  it("keeps the figures when a load worker dies, names it, FAILs, and cleans up every process", async () => {
    const json = path.join(dir, "box.json");
    const html = path.join(dir, "box.html");
    let killed: number | undefined;
    // Kill one load worker once both have started and the broadcast is on its way (bounded: 60 s of polling).
    const killer = setInterval(() => {
      const workers = children().filter((c) => c.cmd.includes("load/worker"));
      if (killed === undefined && workers.length === 2) {
        killed = Math.max(...workers.map((w) => w.pid));
        setTimeout(() => process.kill(killed as number, "SIGKILL"), 2_500);
      }
    }, 200);
    setTimeout(() => clearInterval(killer), 60_000).unref();
    let result: BoxResult;
    try {
      result = await runBox({
        connections: 400,
        gateways: 1,
        workers: 2,
        rampSeconds: 1,
        holdSeconds: 3,
        channels: 4,
        publishRate: 20,
        json,
        html,
      });
    } finally {
      clearInterval(killer);
    }
    assert.ok(killed !== undefined, "no worker was killed");
    assert.equal(result.pass, false);
    assert.equal(result.workersReported, 1);
    assert.equal(result.workersMissing.length, 1);
    assert.match(result.workersMissing[0]?.reason ?? "", /died \(SIGKILL\) before reporting/);
    assert.equal(result.workersMissing[0]?.connections, 200);
    const written = JSON.parse(readFileSync(json, "utf8")) as BoxResult;
    assert.deepEqual(written.workersMissing, result.workersMissing);
    // The surviving worker's figures are there: its 200 connections' deliveries and latency.
    assert.ok(written.deliveriesPerSecond > 0, `deliveries ${written.deliveriesPerSecond}/s`);
    assert.ok(written.p99Ms !== null);
    for (const key of ["gateways", "loadWorkers", "redis", "publisher"] as const)
      assert.equal(typeof written.cpuSeconds[key], "number");
    const reported = written.goals.find((g) => g.name === "every load worker reported");
    // Which of the two was killed depends on the pids the kernel handed out.
    assert.equal(reported?.pass, false);
    assert.equal(reported?.figure, `1 of 2 (missing: ${result.workersMissing[0]?.workerIndex})`);
    assert.ok(existsSync(html));
    assert.match(readFileSync(html, "utf8"), /did not report/);
    // Gateways, redis and the other worker are gone by the time runBox returns (tsx's esbuild service is this
    // test process's own).
    assert.deepEqual(
      children().filter((c) => !c.cmd.includes("esbuild")),
      [],
    );
  });
});
