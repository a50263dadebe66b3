import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BenchResults,
  benchResults,
  goals,
  markdownTable,
  markdownTables,
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

  const scale: BenchResults = structuredClone(results);
  Object.assign(scale.systems.rtgw as object, {
    connectsPerSecond: 5_000,
    relayDeliveriesPerSecond: 1_200_000,
    relayP99Ms: 30,
    bytesPerConnection: 1_200,
  });
  Object.assign(scale.systems.uws as object, {
    connectsPerSecond: 6_000,
    relayDeliveriesPerSecond: 1_500_000,
  });
  scale.systems.soketi = {
    bytesPerConnection: 3_000,
    fanoutDeliveriesPerSecond: 300_000,
    p50Ms: 2,
    p99Ms: 9,
    crossProcessDeliveriesPerSecond: 100_000,
    connectsPerSecond: 2_000,
    relayDeliveriesPerSecond: null,
    relayP99Ms: null,
  };
  scale.redisPublish = {
    gatewayPublishesPerSecond: 60_000,
    redisBenchmarkPublishesPerSecond: 120_000,
    redisBenchmarkPipelinedPublishesPerSecond: 600_000,
    gatewayRedisCpuUsPerPublish: 14.5,
    redisBenchmarkRedisCpuUsPerPublish: 3.2,
    gatewayClientCpuUsPerPublish: 9,
  };

  it("adds the connect and pod-at-cap table and the Redis publish line when measured", () => {
    assert.equal(markdownTables(results), markdownTable(results));
    const parts = markdownTables(scale).split("\n\n");
    assert.equal(parts.length, 3);
    const second = (parts[1] ?? "").split("\n");
    assert.match(second[0] ?? "", /connects\/s .*pod at cap: deliveries\/s from Redis .*pod at cap: p99/);
    assert.match(second[2] ?? "", /^\| rtgw gateway \| 5,000 \| 1,200,000 \| 30\.00 \|$/);
    assert.match(second[5] ?? "", /^\| Soketi 1\.6\.1 .*\| 2,000 \(0\.40x\) \| n\/a \(n\/a\) \|/);
    assert.equal(
      parts[2],
      "publishes into one Redis: rtgw publish script 60,000/s; redis-benchmark PUBLISH 120,000/s (ours 0.50x of it), pipelined -P 16 600,000/s (ours 0.10x); " +
        "redis-server CPU per publish 14.5 µs through the script, 3.2 µs per raw PUBLISH; our client 9.0 µs per publish",
    );
    // Only the second kind measured: no empty first table.
    const onlyScale: BenchResults = { systems: { rtgw: { ...(scale.systems.rtgw as object) } as never } };
    for (const key of [
      "bytesPerConnection",
      "fanoutDeliveriesPerSecond",
      "p50Ms",
      "p99Ms",
      "crossProcessDeliveriesPerSecond",
    ])
      (onlyScale.systems.rtgw as Record<string, unknown>)[key] = null;
    assert.equal(markdownTables(onlyScale).split("\n\n").length, 1);
  });

  it("checks issue 14's goals, Soketi on every figure both have", () => {
    const met = goals(scale);
    assert.match(met.line, /^goals \(issue 14\): MET: /);
    assert.deepEqual(
      met.checks.map((c) => c.pass),
      [true, true, true, true],
    );
    assert.match(met.line, /ahead of Soketi on every figure PASS \(6 figures\)/);
    const behind: BenchResults = structuredClone(scale);
    Object.assign(behind.systems.soketi as object, { p99Ms: 3, connectsPerSecond: 9_000 });
    Object.assign(behind.systems.rtgw as object, { relayP99Ms: 80, bytesPerConnection: 2_000 });
    const v = goals(behind);
    assert.deepEqual(
      v.checks.map((c) => c.pass),
      [false, false, true, false],
    );
    assert.match(v.line, /behind on p99Ms, connectsPerSecond/);
    assert.deepEqual(
      goals({ systems: {} }).checks.map((c) => c.pass),
      [null, null, null, null],
    );
  });

  it("reads results files written before the new figures", () => {
    assert.ok(benchResults.safeParse(results).success);
    assert.ok(benchResults.safeParse(scale).success);
  });
});
