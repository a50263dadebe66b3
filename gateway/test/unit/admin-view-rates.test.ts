// The admin view's chart maths: rates from counter readings, p99 from the change in histogram buckets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Buckets, histogramQuantile, ratePerSecond } from "../../src/admin-view/rates.js";

const INF = Number.POSITIVE_INFINITY;
const buckets = (...counts: number[]): Buckets =>
  [0.001, 0.01, 0.1, INF].map((le, i) => ({ le, count: counts[i] ?? 0 }));

describe("ratePerSecond", () => {
  const table: [before: number, after: number, seconds: number, want: number][] = [
    [0, 10, 1, 10],
    [100, 150, 2, 25],
    [5, 5, 1, 0],
    [10, 3, 1, 0], // counter reset: no negative rate
    [0, 10, 0, 0], // no time passed
  ];
  for (const [before, after, seconds, want] of table)
    it(`${before} -> ${after} over ${seconds}s is ${want}/s`, () =>
      assert.equal(ratePerSecond(before, after, seconds), want));
});

describe("histogramQuantile over the change between two readings", () => {
  const table: [name: string, q: number, before: Buckets, after: Buckets, want: number | undefined][] = [
    ["nothing observed", 0.99, buckets(3, 5, 5, 5), buckets(3, 5, 5, 5), undefined],
    ["all in the first bucket: interpolated from 0", 0.5, buckets(), buckets(10, 10, 10, 10), 0.0005],
    // 100 new: 50 under 1 ms, 49 more under 10 ms, 1 under 100 ms: rank 99 is the top of the second bucket.
    ["p99 at a bucket's top", 0.99, buckets(), buckets(50, 99, 100, 100), 0.01],
    // rank 99.5 of 100 falls halfway into the third bucket (0.01..0.1).
    ["p99.5 inside the third bucket", 0.995, buckets(), buckets(50, 99, 100, 100), 0.055],
    // only what happened in between counts: 10 old fast observations, 10 new slow ones.
    ["old observations ignored", 0.5, buckets(10, 10, 10, 10), buckets(10, 10, 20, 20), 0.055],
    ["in +Inf: the highest finite bound", 0.99, buckets(), buckets(0, 0, 0, 4), 0.1],
    ["unsorted buckets are sorted", 0.5, [], [...buckets(10, 10, 10, 10)].reverse(), 0.0005],
  ];
  for (const [name, q, before, after, want] of table)
    it(name, () => {
      const got = histogramQuantile(q, before, after);
      if (want === undefined) assert.equal(got, undefined);
      else assert.ok(got !== undefined && Math.abs(got - want) < 1e-12, `${got} != ${want}`);
    });
});
