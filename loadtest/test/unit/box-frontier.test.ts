// The frontier's verdict: where the p99 crosses 100 ms among box runs at a few message rates.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FrontierPoint, findFrontier, frontierLines } from "../../src/box/frontier.js";

const point = (
  publishRate: number,
  p99Ms: number | null,
  change: Partial<FrontierPoint> = {},
): FrontierPoint => ({
  publishRate,
  connections: 20_000,
  deliveriesPerSecond: publishRate * 200,
  p50Ms: 3,
  p99Ms,
  lost: 0,
  duplicated: 0,
  workersMissing: 0,
  cpuCores: { gateways: 0.5, loadWorkers: 0.5, redis: 0.1, publisher: 0.05 },
  ...change,
});

describe("findFrontier", () => {
  const rows: Array<[string, FrontierPoint[], number | null, number | null]> = [
    ["crossed between two rates", [point(22, 450), point(5, 20), point(10, 60)], 10, 22],
    ["never crossed", [point(5, 20), point(10, 60)], 10, null],
    ["crossed below every rate", [point(5, 120), point(10, 300)], null, 5],
    ["a lost message is over the goal", [point(5, 20), point(10, 60, { lost: 1 })], 5, 10],
    ["a missing worker is over the goal", [point(5, 20), point(10, 60, { workersMissing: 1 })], 5, 10],
    ["no latency samples is over the goal", [point(5, 20), point(10, null)], 5, 10],
  ];
  for (const [name, points, within, over] of rows)
    it(name, () => {
      const f = findFrontier(points);
      assert.equal(f.lastWithinGoal?.publishRate ?? null, within);
      assert.equal(f.firstOverGoal?.publishRate ?? null, over);
    });
});

describe("frontierLines", () => {
  it("one row per rate, in rate order, then the crossing", () => {
    const lines = frontierLines([point(22, 450), point(5, 20), point(10, 60)]);
    assert.equal(lines[0], "frontier at 20,000 connections:");
    assert.match(
      lines[1] ?? "",
      /^ {5}5 msg\/s +1,000 deliveries\/s {2}p50 3 ms {2}p99 20 ms {2}0 lost {2}0 dup/,
    );
    assert.equal(lines.at(-1), "frontier: p99 ≤ 100 ms up to 2,000 deliveries/s; over it at 4,400/s");
  });
  it("says when the goal held at every rate, or at none", () => {
    assert.match(
      frontierLines([point(5, 20)]).at(-1) ?? "",
      /not reached: p99 ≤ 100 ms at every rate, up to 1,000/,
    );
    assert.match(frontierLines([point(5, 200)]).at(-1) ?? "", /below every rate: .* at 1,000 deliveries\/s/);
  });
});
