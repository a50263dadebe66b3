// The pure cores of the test-support k6 runtime against k6's documented semantics: durations, threshold syntax
// and evaluation, k6's percentile, executor schedules, and options refused by name.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MetricRegistry, metricValues, percentile } from "../../../test-support/k6/metrics.js";
import { parseDuration, parseOptions } from "../../../test-support/k6/options.js";
import { arrivalOffsets, rampingSteps } from "../../../test-support/k6/schedule.js";
import { checkAggregation, evaluateThreshold, parseThreshold } from "../../../test-support/k6/thresholds.js";

describe("k6 runtime: durations", () => {
  for (const [input, ms] of [
    ["90s", 90_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1.5s", 1_500],
    ["1h", 3_600_000],
    [250, 250],
  ] as const) {
    it(`${JSON.stringify(input)} is ${ms} ms`, () => assert.equal(parseDuration(input), ms));
  }
  for (const bad of ["10", "s", "1x", "", "1s 2s", -1]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseDuration(bad), /invalid duration/));
  }
});

describe("k6 runtime: thresholds", () => {
  const cases: Array<[string, Record<string, number>, boolean]> = [
    ["p(99)<250", { "p(99)": 249.9 }, true],
    ["p(99)<250", { "p(99)": 250 }, false],
    ["p(50)>2", { "p(50)": 2.5 }, true],
    ["rate<0.001", { rate: 0.001 }, false],
    ["rate>0.99", { rate: 0.995 }, true],
    ["count==0", { count: 0 }, true],
    ["count == 0", { count: 1 }, false],
    ["count<100", { count: 99 }, true],
    ["avg<=5", { avg: 5 }, true],
    ["max!=3", { max: 3 }, false],
    ["p(99.9)<10", { "p(99.9)": 9 }, true],
  ];
  for (const [source, values, ok] of cases) {
    it(`${source} on ${JSON.stringify(values)} → ${ok ? "pass" : "fail"}`, () => {
      assert.equal(evaluateThreshold(parseThreshold(source), values).ok, ok);
    });
  }
  it("a Rate with no samples has no rate: not evaluated and not failed, as in k6", () => {
    const registry = new MetricRegistry();
    const values = metricValues(registry.declare("r", "rate"), 1_000);
    assert.deepEqual(evaluateThreshold(parseThreshold("rate<0.01"), values), {
      source: "rate<0.01",
      ok: true,
      actual: undefined,
    });
  });
  it("an empty Counter counts 0 and an empty Trend reads 0, as in k6", () => {
    const registry = new MetricRegistry();
    assert.equal(
      evaluateThreshold(parseThreshold("count>0"), metricValues(registry.declare("c", "counter"), 1)).ok,
      false,
    );
    const trend = metricValues(registry.declare("t", "trend"), 1, [99]);
    assert.equal(evaluateThreshold(parseThreshold("p(99)<250"), trend).ok, true);
  });
  for (const bad of ["p(99) 250", "p(101)<1", "foo<1", "rate<", "rate=1"]) {
    it(`refuses "${bad}"`, () => assert.throws(() => parseThreshold(bad), /invalid threshold/));
  }
  it("refuses an aggregation the metric type lacks", () => {
    assert.throws(() => checkAggregation("t", "trend", parseThreshold("rate<1")), /trend metric has no rate/);
    assert.throws(
      () => checkAggregation("c", "counter", parseThreshold("p(95)<1")),
      /counter metric has no p\(95\)/,
    );
    assert.doesNotThrow(() => checkAggregation("c", "counter", parseThreshold("rate<1")));
  });
});

describe("k6 runtime: metrics", () => {
  it("percentiles interpolate between the closest ranks (k6's TrendSink)", () => {
    assert.equal(percentile([], 0.5), 0);
    assert.equal(percentile([7], 0.99), 7);
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.ok(Math.abs(percentile(hundred, 0.99) - 99.01) < 1e-9);
  });
  it("aggregates each type as k6 does", () => {
    const registry = new MetricRegistry();
    const rate = registry.declare("r", "rate");
    for (const v of [1, 0, 0, 1]) registry.add(rate, v);
    assert.equal(metricValues(rate, 1_000).rate, 0.5);
    const counter = registry.declare("c", "counter");
    registry.add(counter, 3);
    registry.add(counter, 2);
    assert.deepEqual(metricValues(counter, 2_000), { count: 5, rate: 2.5 });
    const gauge = registry.declare("g", "gauge");
    for (const v of [4, 9, 2]) registry.add(gauge, v);
    assert.deepEqual(metricValues(gauge, 1), { value: 2, min: 2, max: 9 });
  });
  it("one name, one type", () => {
    const registry = new MetricRegistry();
    assert.equal(registry.declare("x", "counter"), registry.declare("x", "counter"));
    assert.throws(() => registry.declare("x", "trend"), /already exists as a counter/);
    assert.throws(() => registry.declare("1x", "trend"), /invalid metric name/);
  });
});

describe("k6 runtime: schedules", () => {
  it("ramping-vus moves one VU at a time where the linear ramp crosses it", () => {
    assert.deepEqual(
      rampingSteps(0, [
        { duration: 2_000, target: 4 },
        { duration: 1_000, target: 4 },
        { duration: 1_000, target: 2 },
      ]),
      [
        { atMs: 0, vus: 0 },
        { atMs: 500, vus: 1 },
        { atMs: 1_000, vus: 2 },
        { atMs: 1_500, vus: 3 },
        { atMs: 2_000, vus: 4 },
        { atMs: 3_500, vus: 3 },
        { atMs: 4_000, vus: 2 },
      ],
    );
  });
  it("constant-arrival-rate starts an iteration every timeUnit/rate within the duration", () => {
    assert.deepEqual(arrivalOffsets(20, 1_000, 500), [0, 50, 100, 150, 200, 250, 300, 350, 400, 450]);
    assert.equal(arrivalOffsets(100, 1_000, 120_000).length, 12_000);
  });
});

describe("k6 runtime: options", () => {
  const scenario = { executor: "shared-iterations" };
  it("fills k6's defaults", () => {
    const options = parseOptions({ scenarios: { s: scenario } });
    assert.deepEqual(options.scenarios.s, {
      executor: "shared-iterations",
      startTime: 0,
      gracefulStop: 30_000,
      exec: "default",
      vus: 1,
      iterations: 1,
      maxDuration: 600_000,
    });
  });
  const refused: Array<[string, unknown, RegExp]> = [
    ["an unsupported executor", { scenarios: { s: { executor: "externally-controlled" } } }, /not supported/],
    ["a scenario option it does not run", { scenarios: { s: { ...scenario, env: { A: "1" } } } }, /env/],
    ["a top-level option it does not run", { scenarios: { s: scenario }, vus: 10 }, /vus/],
    [
      "thresholds with abortOnFail",
      { scenarios: { s: scenario }, thresholds: { m: [{ threshold: "rate<1" }] } },
      /only string/,
    ],
    ["no scenarios", {}, /scenarios/],
    [
      "a zero duration",
      {
        scenarios: { s: { executor: "constant-arrival-rate", rate: 1, duration: "0s", preAllocatedVUs: 1 } },
      },
      /more than 0/,
    ],
  ];
  for (const [what, raw, message] of refused) {
    it(`refuses ${what}`, () => assert.throws(() => parseOptions(raw), message));
  }
});
