// The box's --profile summary: self time per function from a tiny hand-made .cpuprofile (nodes, samples, timeDeltas).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCpuProfile, profileLines, summarizeProfile } from "../../src/box/profile.js";

const ROOT = "/work/repo";
const frame = (functionName: string, url = "", lineNumber = -1) => ({
  functionName,
  url,
  lineNumber,
  columnNumber: 0,
  scriptId: "1",
});
// Two nodes of the same function (called from two places) must add up; (idle) is reported apart.
const FIXTURE = JSON.stringify({
  nodes: [
    { id: 1, callFrame: frame("(root)"), hitCount: 0, children: [2, 3, 4, 5] },
    { id: 2, callFrame: frame("(idle)"), hitCount: 0 },
    { id: 3, callFrame: frame("decode", `file://${ROOT}/loadtest/src/load/dialect.ts`, 79), hitCount: 0 },
    {
      id: 4,
      callFrame: frame("onMessage", `file://${ROOT}/loadtest/src/load/worker.ts`, 141),
      children: [6],
    },
    { id: 5, callFrame: frame("(garbage collector)"), hitCount: 0 },
    { id: 6, callFrame: frame("decode", `file://${ROOT}/loadtest/src/load/dialect.ts`, 79), hitCount: 0 },
  ],
  startTime: 0,
  endTime: 10_000,
  // Each sample is charged the delta to the next one: 2→1000, 3→3000, 6→2000, 4→500, 5→1500, 2 (last)→0.
  samples: [2, 3, 6, 4, 5, 2],
  timeDeltas: [0, 1000, 3000, 2000, 500, 1500],
});

describe("summarizeProfile", () => {
  const summary = summarizeProfile(parseCpuProfile(FIXTURE), {
    process: "load worker",
    file: "w.cpuprofile",
    root: ROOT,
  });
  it("sums self time per function over its nodes, largest first, files relative to the checkout", () => {
    assert.deepEqual(summary.top, [
      { function: "decode (loadtest/src/load/dialect.ts:80)", selfMs: 5, percent: 62.5 },
      { function: "(garbage collector)", selfMs: 1.5, percent: 18.8 },
      { function: "(idle)", selfMs: 1, percent: 12.5 },
      { function: "onMessage (loadtest/src/load/worker.ts:142)", selfMs: 0.5, percent: 6.3 },
    ]);
    assert.equal(summary.totalMs, 8);
    assert.equal(summary.idleMs, 1);
  });
  it("keeps the top n", () => {
    const top = summarizeProfile(parseCpuProfile(FIXTURE), { process: "p", file: "f", top: 1 }).top;
    assert.equal(top.length, 1);
    assert.equal(top[0]?.function, `decode (${ROOT}/loadtest/src/load/dialect.ts:80)`);
  });
  it("prints the busy share and one line per function", () => {
    const lines = profileLines(summary);
    assert.equal(lines[0], "load worker: w.cpuprofile: 0 s sampled, 0 s busy (87.5%); top self time:");
    assert.equal(lines[1], "   62.5%        5 ms  decode (loadtest/src/load/dialect.ts:80)");
  });
  it("refuses what is not a cpu profile", () => {
    assert.throws(() => parseCpuProfile('{"nodes":[]}'), /not a V8 cpu profile/);
  });
});
