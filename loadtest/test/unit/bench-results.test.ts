import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BenchResults,
  markdownTable,
  RESULTS_BEGIN,
  RESULTS_END,
  ratio,
  replaceResultsBlock,
  verdict,
} from "../../src/bench/results.js";

const results: BenchResults = {
  systems: {
    rtgw: {
      bytesPerConnection: 2000,
      fanoutDeliveriesPerSecond: 800_000,
      p50Ms: 1,
      p99Ms: 4,
      crossProcessDeliveriesPerSecond: 500_000,
    },
    socketio: {
      bytesPerConnection: 14_000,
      fanoutDeliveriesPerSecond: 30_000,
      p50Ms: 3,
      p99Ms: 40,
      crossProcessDeliveriesPerSecond: 20_000,
    },
    uws: {
      bytesPerConnection: 1000,
      fanoutDeliveriesPerSecond: 1_000_000,
      p50Ms: 0.8,
      p99Ms: 3,
      crossProcessDeliveriesPerSecond: 900_000,
    },
  },
};

describe("bench results", () => {
  it("formats ratios as theirs / ours", () => {
    assert.equal(ratio(14_000, 2000), "7.00x");
    assert.equal(ratio(30_000, 800_000), "0.04x");
    assert.equal(ratio(100, 5), "20x");
    assert.equal(ratio(null, 5), "n/a");
    assert.equal(ratio(5, 0), "n/a");
  });

  it("prints every system with its ratios to ours", () => {
    const table = markdownTable(results).split("\n");
    assert.equal(table.length, 5);
    assert.match(table[2] ?? "", /^\| rtgw gateway \| 2,000 \| 800,000 \| 1\.00 \| 4\.00 \| 500,000 \|$/);
    assert.match(table[3] ?? "", /14,000 \(7\.00x\)/);
    assert.match(table[4] ?? "", /1,000,000 \(1\.25x\)/);
  });

  it("checks our targets", () => {
    assert.match(verdict(results).line, /^verdict: PASS/);
    const worse: BenchResults = structuredClone(results);
    (worse.systems.rtgw as { bytesPerConnection: number }).bytesPerConnection = 3000;
    const v = verdict(worse);
    assert.match(v.line, /^verdict: NOT MET/);
    assert.deepEqual(
      v.checks.map((c) => c.pass),
      [false, true, true, true],
    );
    const missing: BenchResults = { systems: { rtgw: results.systems.rtgw! } };
    assert.deepEqual(
      verdict(missing).checks.map((c) => c.pass),
      [true, null, null, null],
    );
  });

  it("regenerates only the results block of the README", () => {
    const readme = `# x\n<!-- section:bench -->\nhow to run\n${RESULTS_BEGIN}\nold\n${RESULTS_END}\nafter\n<!-- /section:bench -->\n`;
    const updated = replaceResultsBlock(readme, "NEW");
    assert.equal(
      updated,
      `# x\n<!-- section:bench -->\nhow to run\n${RESULTS_BEGIN}\nNEW\n${RESULTS_END}\nafter\n<!-- /section:bench -->\n`,
    );
    assert.equal(replaceResultsBlock(updated, "NEW"), updated);
    assert.throws(() => replaceResultsBlock("# no markers", "x"));
  });
});
