import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { build, encodeIntoCompressedBase64 } from "hdr-histogram-js";
import { renderHtmlReport } from "../../src/load/html-report.js";
import type { WorkerResult, WorkerTick } from "../../src/load/ipc.js";
import { buildReport, missingWorkers, summaryLines, sumTicks } from "../../src/load/report.js";

function tick(workerIndex: number, fields: Partial<WorkerTick>): WorkerTick {
  return {
    type: "tick",
    workerIndex,
    atMs: 0,
    started: 0,
    opened: 0,
    held: 0,
    subscribed: 0,
    connectErrors: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    reconnects: 0,
    intervalP50Ms: null,
    intervalP99Ms: null,
    intervalP999Ms: null,
    rss: 0,
    ...fields,
  };
}

/** A worker result whose latency histogram holds `latenciesMs`. */
function result(
  workerIndex: number,
  latenciesMs: number[],
  fields: Partial<WorkerResult> = {},
): WorkerResult {
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const ms of latenciesMs) histogram.recordValue(ms * 1000);
  return {
    type: "result",
    workerIndex,
    tick: tick(workerIndex, { opened: 10, held: 10, subscribed: 10, delivered: latenciesMs.length }),
    latencyHistogram: encodeIntoCompressedBase64(histogram),
    reconnectTimes: [],
    closeCodes: {},
    errorSamples: [],
    ...fields,
  };
}

describe("sumTicks", () => {
  it("sums the counts and keeps the worst worker's interval percentiles (null: no worker had a sample)", () => {
    const total = sumTicks([
      tick(0, { held: 3, intervalP50Ms: 1, intervalP99Ms: 9, intervalP999Ms: null }),
      tick(1, { held: 4, intervalP50Ms: 2, intervalP99Ms: 5, intervalP999Ms: null }),
    ]);
    assert.equal(total.held, 7);
    assert.deepEqual([total.intervalP50Ms, total.intervalP99Ms, total.intervalP999Ms], [2, 9, null]);
  });
});

describe("load report", () => {
  const report = buildReport({
    startedAt: Date.parse("2026-01-01T00:00:00Z"),
    endedAt: Date.parse("2026-01-01T00:00:10Z"),
    config: { connections: 20 },
    requested: 20,
    results: [
      result(0, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { reconnectTimes: [4, 5], closeCodes: { "1012": 2 } }),
      result(1, [2, 2, 2, 2, 2, 2, 2, 2, 2, 50], {
        reconnectTimes: [4.5, 7],
        closeCodes: { "1012": 1, "1006": 1 },
        errorSamples: ["gap of 1 on load:0"],
        tick: tick(1, {
          opened: 10,
          held: 9,
          delivered: 10,
          lost: 1,
          duplicated: 2,
          reconnects: 2,
          connectErrors: 1,
        }),
      }),
    ],
    publish: { sent: 10, acked: 10, failed: 0, skipped: 0, finalOffsets: { "load:0": 10 }, errorSamples: [] },
    publishSeconds: 5,
    deliverySeconds: 5,
    timeline: [
      {
        t: 1,
        held: 10,
        connectsPerSecond: 10,
        deliveriesPerSecond: 0,
        p50Ms: null,
        p99Ms: null,
        p999Ms: null,
        workersRss: 1,
      },
      {
        t: 2,
        held: 19,
        connectsPerSecond: 10,
        deliveriesPerSecond: 4,
        p50Ms: 1,
        p99Ms: 2,
        p999Ms: 3,
        workersRss: 2,
      },
    ],
  });

  it("merges the workers' histograms and sums their counts", () => {
    assert.equal(report.latencyMs.count, 20);
    assert.ok(Math.abs((report.latencyMs.p50 ?? 0) - 1) < 0.01, String(report.latencyMs.p50));
    assert.ok(Math.abs((report.latencyMs.p99 ?? 0) - 50) < 0.1, String(report.latencyMs.p99));
    assert.equal(
      report.latencyBuckets.reduce((sum, b) => sum + b.count, 0),
      20,
    );
    assert.deepEqual(report.loss, { lost: 1, duplicated: 2 });
    assert.equal(report.connections.opened, 20);
    assert.equal(report.connections.heldAtEnd, 19);
    // 10 + 0 subscribe acks, 2 of them reconnects' resubscribes.
    assert.equal(report.connections.subscribed, 8);
    assert.equal(report.connections.peakHeld, 19);
    assert.equal(report.connections.connectErrors, 1);
    assert.deepEqual(report.connections.closeCodes, { "1012": 3, "1006": 1 });
    assert.equal(report.deliveries.total, 20);
    assert.equal(report.deliveries.perSecond, 4);
    assert.equal(report.publish.ratePerSecond, 2);
    assert.equal(report.publish.seconds, 5);
    assert.equal(report.durationSeconds, 10);
  });

  it("reports when reconnects happened and their spread", () => {
    assert.deepEqual(report.reconnects, {
      count: 2,
      firstAtSeconds: 4,
      p50AtSeconds: 4.5,
      lastAtSeconds: 7,
      spreadSeconds: 3,
    });
    assert.match(summaryLines(report).at(-1) ?? "", /between 4s and 7s \(spread 3s, median at 4\.5s\)/);
  });

  it("renders a self-contained page with four charts, the latency percentiles over time among them", () => {
    const page = renderHtmlReport(report, summaryLines(report));
    assert.equal(page.match(/<svg /g)?.length, 4);
    assert.match(page, /latency over time[\s\S]*>p50<[\s\S]*>p99<[\s\S]*>p999</);
    assert.doesNotMatch(page, /(src|href)=/);
    assert.match(page, /1 lost, 2 duplicated/);
  });
});

describe("missingWorkers", () => {
  const shares = [0, 1, 2, 3].map((workerIndex) => ({ workerIndex, connections: 100 + workerIndex }));
  const rows: Array<
    [string, number[], Array<[number, { code: number | null; signal: string | null }]>, string[]]
  > = [
    ["every worker reported", [0, 1, 2, 3], [], []],
    [
      "one killed, one crashed, one still running at the deadline",
      [1],
      [
        [0, { code: null, signal: "SIGKILL" }],
        [2, { code: 1, signal: null }],
      ],
      [
        "0 (100): died (SIGKILL) before reporting",
        "2 (102): exited with code 1 before reporting",
        "3 (103): no result within 20 s of the finish",
      ],
    ],
    // A worker that reported and then exited is not missing.
    ["reported, then exited", [0, 1, 2, 3], [[0, { code: 0, signal: null }]], []],
  ];
  for (const [name, reported, ends, expected] of rows)
    it(name, () =>
      assert.deepEqual(
        missingWorkers(shares, new Set(reported), new Map(ends), 20_000).map(
          (m) => `${m.workerIndex} (${m.connections}): ${m.reason}`,
        ),
        expected,
      ),
    );
});

describe("a load report with workers missing", () => {
  const input = {
    startedAt: 0,
    endedAt: 10_000,
    config: {},
    requested: 20,
    publish: { sent: 10, acked: 10, failed: 0, skipped: 0, finalOffsets: {}, errorSamples: [] },
    publishSeconds: 5,
    deliverySeconds: 5,
    timeline: [],
  };
  it("keeps the figures of those that reported and names the rest", () => {
    const report = buildReport({
      ...input,
      results: [result(0, [1, 2, 3])],
      workersStarted: 2,
      workersMissing: [{ workerIndex: 1, connections: 10, reason: "died (SIGKILL) before reporting" }],
    });
    assert.deepEqual(report.workers, { started: 2, reported: 1 });
    assert.equal(report.latencyMs.count, 3);
    assert.equal(
      summaryLines(report)[0],
      "workers      only 1 of 2 reported; every figure below leaves out worker 1 (10 connections: died (SIGKILL) before reporting)",
    );
  });
  it("no worker reported: a report all the same, without latency samples", () => {
    const report = buildReport({
      ...input,
      results: [],
      workersStarted: 1,
      workersMissing: [{ workerIndex: 0, connections: 20, reason: "no result within 20 s of the finish" }],
    });
    assert.deepEqual(report.workers, { started: 1, reported: 0 });
    assert.equal(report.latencyMs.p99, null);
    assert.equal(report.deliveries.total, 0);
  });
  it("every worker reported: no workers line", () => {
    const report = buildReport({ ...input, results: [result(0, [1])] });
    assert.deepEqual(report.workersMissing, []);
    assert.doesNotMatch(summaryLines(report).join("\n"), /^workers/m);
  });
});
