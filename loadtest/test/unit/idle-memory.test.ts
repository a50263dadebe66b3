import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { medianGrowthPerConnection } from "../../src/bench/scenarios.js";

describe("idle memory: the median block's RSS growth per connection", () => {
  const cases: [string, number[], number, number][] = [
    ["steady growth", [100_000, 130_000, 160_000, 190_000], 30, 1_000],
    [
      "a collection in one block is dropped",
      [100_000, 130_000, 110_000, 140_000, 170_000, 200_000],
      30,
      1_000,
    ],
    [
      "a young generation grown in one block is dropped",
      [0, 3_000, 19_000, 22_000, 25_000, 28_000],
      3,
      1_000,
    ],
    ["an even count averages the middle two", [0, 10, 30], 10, 2],
  ];
  for (const [name, readings, perStep, expected] of cases)
    it(name, () => assert.equal(medianGrowthPerConnection(readings, perStep), expected));
  it("one reading is no measurement", () => {
    assert.throws(() => medianGrowthPerConnection([5], 1), /at least two readings/);
  });
});
