import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay } from "../../../client/src/backoff.js";
import {
  LOAD_BACKOFF,
  MAX_CONNECTIONS_PER_WORKER,
  observeOffset,
  quantileSorted,
  rampTarget,
  sourceAddresses,
  splitConnections,
  tailLoss,
  workerCount,
} from "../../src/load/plan.js";

describe("load plan", () => {
  it("picks enough workers to stay under the per-process file limit", () => {
    const table: Array<[number, number | "auto", number]> = [
      [1, "auto", 1],
      [16_000, "auto", 1],
      [16_001, "auto", 2],
      [200_000, "auto", 13],
      [200_000, 12, 12],
    ];
    for (const [connections, requested, expected] of table) {
      assert.equal(workerCount(connections, requested), expected, `${connections} ${requested}`);
    }
    assert.throws(() => workerCount(MAX_CONNECTIONS_PER_WORKER * 2 + 1, 2), /at most 18000/);
  });

  it("splits connections evenly with contiguous indexes", () => {
    assert.deepEqual(splitConnections(10, 3), [
      { first: 0, count: 4 },
      { first: 4, count: 3 },
      { first: 7, count: 3 },
    ]);
    assert.deepEqual(
      splitConnections(2, 4).map((s) => s.count),
      [1, 1, 0, 0],
    );
  });

  it("gives each worker its own loopback source addresses, never 127.0.0.1", () => {
    assert.deepEqual(sourceAddresses(0, 100), ["127.1.0.1"]);
    assert.deepEqual(sourceAddresses(2, 2_500), ["127.3.0.1", "127.3.0.2", "127.3.0.3"]);
    assert.equal(sourceAddresses(1, 18_000).length, 18);
    const many = sourceAddresses(0, 1_000 * 300);
    assert.equal(many.length, 300);
    assert.equal(many[250], "127.1.1.1");
    assert.equal(new Set(many).size, many.length);
  });

  it("ramps linearly and opens everything at once without a ramp", () => {
    assert.equal(rampTarget(1000, 10, 0), 0);
    assert.equal(rampTarget(1000, 10, 5_000), 500);
    assert.equal(rampTarget(1000, 10, 60_000), 1000);
    assert.equal(rampTarget(1000, 0, 0), 1000);
  });

  it("turns offsets into losses and duplicates", () => {
    const table: Array<[number, number, { last: number; lost: number; duplicated: number }]> = [
      [4, 5, { last: 5, lost: 0, duplicated: 0 }],
      [4, 8, { last: 8, lost: 3, duplicated: 0 }],
      [4, 4, { last: 4, lost: 0, duplicated: 1 }],
      [4, 2, { last: 4, lost: 0, duplicated: 1 }],
      [0, 1, { last: 1, lost: 0, duplicated: 0 }],
    ];
    for (const [last, offset, expected] of table) assert.deepEqual(observeOffset(last, offset), expected);
    assert.equal(tailLoss(7, 10), 3);
    assert.equal(tailLoss(10, 10), 0);
    assert.equal(tailLoss(3, undefined), 0);
  });

  it("backs off exponentially with full jitter, capped", () => {
    const backoffMs = (attempt: number, random: number) => backoffDelay(attempt, LOAD_BACKOFF, () => random);
    assert.equal(backoffMs(0, 0), 0);
    assert.equal(backoffMs(0, 0.5), 100);
    assert.equal(backoffMs(3, 0.5), 800);
    assert.equal(backoffMs(30, 0.999), 4995);
  });

  it("reads quantiles of sorted lists", () => {
    assert.equal(quantileSorted([], 0.5), null);
    assert.equal(quantileSorted([1, 2, 3, 4], 0), 1);
    assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
  });
});
