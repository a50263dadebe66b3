// The box run's pure parts: the plan derived from the connection count, the goals' verdicts, the RSS timeline merge,
// and the README block and page made from a result.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderBoxHtml } from "../../src/box/html.js";
import { type BoxFigures, boxGoals, boxPlan, deliveriesGoal, goalLines } from "../../src/box/plan.js";
import {
  type BoxResult,
  boxResultsBlock,
  boxSummaryLines,
  endOfHoldSample,
  gatewayBaseline,
  rssTimeline,
} from "../../src/box/result.js";
import {
  CONNECTIONS_PER_SOURCE_ADDRESS,
  MAX_CONNECTIONS_PER_WORKER,
  sourceAddresses,
  splitConnections,
} from "../../src/load/plan.js";
import type { LoadReport } from "../../src/load/report.js";

describe("boxPlan", () => {
  const rows: Array<[number, { gateways: number; workers: number; rampSeconds: number }]> = [
    // The scenario: 18,519 per gateway (below ~19,900), 17,858 per worker (below 18,000), 2,500/s.
    [500_000, { gateways: 27, workers: 28, rampSeconds: 200 }],
    [200_000, { gateways: 11, workers: 12, rampSeconds: 80 }],
    [40_000, { gateways: 3, workers: 3, rampSeconds: 16 }],
    [19_000, { gateways: 1, workers: 2, rampSeconds: 8 }],
    [1, { gateways: 1, workers: 1, rampSeconds: 1 }],
  ];
  for (const [connections, expected] of rows) {
    it(`${connections} connections → ${expected.gateways} gateways, ${expected.workers} workers, ${expected.rampSeconds} s ramp`, () => {
      assert.deepEqual(boxPlan(connections), {
        ...expected,
        holdSeconds: 60,
        channels: 100,
        publishRate: 22,
      });
    });
  }

  it("the default scenario's source addresses: disjoint, never the gateways' 127.0.0.1, ≤ 1,000 ports on each", () => {
    const plan = boxPlan(500_000);
    const perAddress = new Map<string, number>();
    for (const [w, share] of splitConnections(500_000, plan.workers).entries()) {
      assert.ok(share.count <= MAX_CONNECTIONS_PER_WORKER, `worker ${w}: ${share.count}`);
      const addresses = sourceAddresses(w, share.count);
      // The worker dials connection i from addresses[i mod n]: count what lands on each.
      for (let i = 0; i < share.count; i++) {
        const address = addresses[(share.first + i) % addresses.length] as string;
        perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      }
    }
    assert.ok(!perAddress.has("127.0.0.1"));
    assert.equal(perAddress.size, 504);
    // Linux gives a bound source address ~28,000 ephemeral ports (32768-60999), whatever the destination.
    assert.ok(Math.max(...perAddress.values()) <= CONNECTIONS_PER_SOURCE_ADDRESS);
    assert.equal(
      [...perAddress.values()].reduce((a, b) => a + b, 0),
      500_000,
    );
  });

  it("the default scenario's broadcast is above 100,000 deliveries/s with a margin", () => {
    const plan = boxPlan(500_000);
    const deliveries = (plan.publishRate * 500_000) / plan.channels;
    assert.equal(deliveries, 110_000);
    assert.ok(deliveries * 10 >= 11 * deliveriesGoal(500_000));
  });
});

describe("deliveriesGoal", () => {
  const rows: Array<[number, number]> = [
    [500_000, 100_000],
    [1_000_000, 100_000],
    [40_000, 8_000],
    [1, 1],
  ];
  for (const [connections, goal] of rows)
    it(`${connections} connections must see ${goal} deliveries/s`, () =>
      assert.equal(deliveriesGoal(connections), goal));
});

describe("boxGoals", () => {
  const met: BoxFigures = {
    connectionsRequested: 500_000,
    connectionsHeld: 500_000,
    connectionsSubscribed: 500_000,
    deliveriesPerSecond: 109_800,
    broadcastSeconds: 60.2,
    p99Ms: 87.1,
    lost: 0,
    duplicated: 0,
    connectErrors: 0,
    workersStarted: 28,
    workersMissing: [],
  };
  const rows: Array<[string, Partial<BoxFigures>, string | null | string[]]> = [
    ["every goal met", {}, null],
    ["one connection short", { connectionsHeld: 499_999 }, "held ≥ 500,000"],
    ["a connection never subscribed", { connectionsSubscribed: 499_999 }, "every connection subscribed"],
    ["too few deliveries", { deliveriesPerSecond: 99_999 }, "≥ 100,000 deliveries/s"],
    ["a short broadcast", { broadcastSeconds: 59.9 }, "broadcast ≥ 60 s"],
    ["p99 over 100 ms", { p99Ms: 100.5 }, "p99 ≤ 100 ms"],
    ["no latency samples", { p99Ms: null }, "p99 ≤ 100 ms"],
    ["one lost", { lost: 1 }, "0 lost"],
    ["one duplicated", { duplicated: 1 }, "0 duplicated"],
    ["one connect error", { connectErrors: 1 }, "0 connect errors"],
    // Workers that did not report: the counts they could raise cannot pass without them.
    [
      "two workers missing",
      { workersMissing: [3, 17] },
      ["p99 ≤ 100 ms", "0 lost", "0 duplicated", "0 connect errors", "every load worker reported"],
    ],
    // A scaled-down run is judged pro rata: 40,000 connections need 8,000 deliveries/s.
    [
      "a scaled run at its pro-rata rate",
      {
        connectionsRequested: 40_000,
        connectionsHeld: 40_000,
        connectionsSubscribed: 40_000,
        deliveriesPerSecond: 8_790,
      },
      null,
    ],
    [
      "a scaled run below its pro-rata rate",
      {
        connectionsRequested: 40_000,
        connectionsHeld: 40_000,
        connectionsSubscribed: 40_000,
        deliveriesPerSecond: 7_999,
      },
      "≥ 8,000 deliveries/s (pro rata of 100,000 at 500,000)",
    ],
  ];
  for (const [name, change, failing] of rows) {
    it(name, () => {
      const goals = boxGoals({ ...met, ...change });
      assert.equal(goals.length, 9);
      assert.deepEqual(
        goals.filter((g) => !g.pass).map((g) => g.name),
        failing === null ? [] : Array.isArray(failing) ? failing : [failing],
      );
    });
  }

  it("prints each goal with its figure and verdict, then the overall verdict", () => {
    const lines = goalLines(boxGoals({ ...met, p99Ms: 120 }));
    assert.equal(lines[0], "  PASS  held ≥ 500,000: 500,000");
    assert.ok(lines.includes("  FAIL  p99 ≤ 100 ms: 120 ms"));
    assert.equal(lines.at(-1), "goals (issue 14, make box): NOT MET (8 of 9)");
    assert.equal(goalLines(boxGoals(met)).at(-1), "goals (issue 14, make box): MET (9 of 9)");
  });

  it("says why a goal cannot be judged when workers are missing, and names them", () => {
    const lines = goalLines(boxGoals({ ...met, workersMissing: [3, 17], lost: 0, p99Ms: 31_000 }));
    assert.ok(lines.includes("  FAIL  0 lost: 0 (cannot be judged: 2 of 28 load workers did not report)"));
    assert.ok(lines.includes("  FAIL  p99 ≤ 100 ms: 31000 ms (from 26 of 28 load workers)"));
    assert.ok(lines.includes("  FAIL  every load worker reported: 26 of 28 (missing: 3, 17)"));
    assert.ok(lines.includes("  PASS  ≥ 100,000 deliveries/s: 109,800/s (from 26 of 28 load workers)"));
  });
});

describe("rssTimeline", () => {
  it("gives each box sample the workers' RSS the load timeline had reported by then", () => {
    const samples = [
      { t: 0.5, gateways: 10, redis: 1 },
      { t: 1.5, gateways: 20, redis: 2 },
      { t: 3.2, gateways: 30, redis: 3 },
    ];
    const timeline = [
      { t: 1, workersRss: 100 },
      { t: 2, workersRss: 200 },
      { t: 3, workersRss: 300 },
    ];
    assert.deepEqual(rssTimeline(samples, timeline), [
      { t: 0.5, gateways: 10, loadWorkers: 0, redis: 1 },
      { t: 1.5, gateways: 20, loadWorkers: 100, redis: 2 },
      { t: 3.2, gateways: 30, loadWorkers: 300, redis: 3 },
    ]);
  });
});

describe("gatewayBaseline", () => {
  const timeline = [
    { t: 1, held: 0 },
    { t: 2, held: 0 },
    { t: 3, held: 500 },
  ];
  const rows: Array<[string, number, Array<{ t: number; gateways: number }>, number]> = [
    ["a settling start: the idle sample below the startup reading", 400, [{ t: 0.5, gateways: 300 }], 300],
    [
      "samples from the second before the first connection on are not idle",
      400,
      [
        { t: 1.9, gateways: 350 },
        { t: 2.5, gateways: 100 },
        { t: 3.5, gateways: 900 },
      ],
      350,
    ],
    ["the startup reading when it is the least", 200, [{ t: 0.5, gateways: 300 }], 200],
    ["no samples", 200, [], 200],
  ];
  for (const [name, startup, samples, expected] of rows)
    it(name, () => assert.equal(gatewayBaseline(startup, samples, timeline), expected));
});

describe("endOfHoldSample", () => {
  const samples = [
    { t: 10, gateways: 1 },
    { t: 20, gateways: 2 },
    { t: 30, gateways: 3 },
  ];
  const rows: Array<[string, Array<{ t: number; deliveriesPerSecond: number }>, number | undefined]> = [
    [
      "the last sample of the broadcast, not the teardown's",
      [
        { t: 15, deliveriesPerSecond: 5 },
        { t: 25, deliveriesPerSecond: 5 },
        { t: 29, deliveriesPerSecond: 0 },
      ],
      2,
    ],
    [
      "without a broadcast, a second before the last tick",
      [
        { t: 15, deliveriesPerSecond: 0 },
        { t: 30.5, deliveriesPerSecond: 0 },
      ],
      2,
    ],
    ["no timeline: the last sample", [], 3],
  ];
  for (const [name, timeline, expected] of rows)
    it(name, () => assert.equal(endOfHoldSample(samples, timeline)?.gateways, expected));
  it("no samples: none", () => assert.equal(endOfHoldSample([], []), undefined));
});

describe("the box result's text and page", () => {
  const goals = boxGoals({
    connectionsRequested: 40_000,
    connectionsHeld: 40_000,
    connectionsSubscribed: 40_000,
    deliveriesPerSecond: 8_800,
    broadcastSeconds: 60,
    p99Ms: 40,
    lost: 0,
    duplicated: 0,
    connectErrors: 0,
    workersStarted: 3,
    workersMissing: [],
  });
  const result: BoxResult = {
    date: "2026-12-01T20:00:00.000Z",
    connectionsRequested: 40_000,
    connectionsHeld: 40_000,
    connectionsSubscribed: 40_000,
    gateways: 3,
    workers: 3,
    workersReported: 3,
    workersMissing: [],
    channels: 100,
    subscribersPerChannel: 400,
    rampSeconds: 16,
    holdSeconds: 60,
    gatewayRssBytes: 300 * 1024 * 1024,
    gatewayBytesPerConnection: 3_000,
    workerRssBytes: 250 * 1024 * 1024,
    redisRssBytes: 10 * 1024 * 1024,
    peakRssBytes: { gateways: 310 * 1024 * 1024, loadWorkers: 260 * 1024 * 1024, redis: 11 * 1024 * 1024 },
    publishRatePerSecond: 22,
    publishFailed: 0,
    deliveriesPerSecond: 8_800,
    broadcastSeconds: 60,
    p50Ms: 5,
    p99Ms: 40,
    p999Ms: 70,
    lost: 0,
    duplicated: 0,
    connectErrors: 0,
    reconnects: 0,
    connectRatePerSecond: 2_500,
    peakConnectsPerSecond: 2_600,
    cpuCores: { gateways: 0.8, loadWorkers: 0.6, redis: 0.05, publisher: 0.1 },
    cpuSeconds: { gateways: 72, loadWorkers: 54, redis: 4.5, publisher: 9 },
    durationSeconds: 90,
    goals,
    pass: true,
    rssTimeline: [
      { t: 1, gateways: 100 * 1024 * 1024, loadWorkers: 90 * 1024 * 1024, redis: 5 * 1024 * 1024 },
      { t: 2, gateways: 200 * 1024 * 1024, loadWorkers: 180 * 1024 * 1024, redis: 6 * 1024 * 1024 },
    ],
  };

  it("the README block is the figures and the goals' verdict", () => {
    const block = boxResultsBlock(result);
    assert.match(block, /\| connections held \| 40,000 of 40,000 \(40,000 subscribed\) \|/);
    assert.match(
      block,
      /22 msg\/s over 100 channels \(400 subscribers each\) → 8,800 deliveries\/s for 60 s/,
    );
    assert.match(block, /goals \(issue 14, make box\): MET \(9 of 9\)/);
    assert.doesNotMatch(block, /load workers missing/);
  });

  it("a run with a missing worker names it in the README block and the printed lines", () => {
    const missing: BoxResult = {
      ...result,
      workersReported: 2,
      workersMissing: [{ workerIndex: 1, connections: 13_333, reason: "died (SIGKILL) before reporting" }],
      pass: false,
    };
    const text =
      "1 of 3 did not report (their figures are missing): worker 1 (13,333 connections) died (SIGKILL) before reporting";
    assert.match(
      boxResultsBlock(missing),
      new RegExp(`\\| load workers missing \\| ${text.replace(/[()]/g, "\\$&")} \\|`),
    );
    assert.ok(boxSummaryLines(missing, "box.json").includes(`box: load workers: ${text}`));
  });

  it("the printed lines end with the goals and PASS", () => {
    const lines = boxSummaryLines(result, "box.json");
    assert.ok(lines.includes("box:   PASS  ≥ 8,000 deliveries/s (pro rata of 100,000 at 500,000): 8,800/s"));
    assert.equal(lines.at(-1), "box: PASS (wrote box.json)");
    assert.equal(
      boxSummaryLines({ ...result, pass: false }, "box.json").at(-1),
      "box: FAIL (wrote box.json)",
    );
  });

  it("the page charts connections, connects/s, deliveries/s, latency percentiles, RSS per kind and the histogram", () => {
    const report = {
      config: {},
      latencyBuckets: [{ upToMs: 1, count: 3 }],
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
          held: 20,
          connectsPerSecond: 10,
          deliveriesPerSecond: 5,
          p50Ms: 1,
          p99Ms: 2,
          p999Ms: 3,
          workersRss: 2,
        },
      ],
    } as unknown as LoadReport;
    const page = renderBoxHtml(result, report, ["summary"]);
    assert.equal(page.match(/<svg /g)?.length, 6);
    assert.doesNotMatch(page, /(src|href)=/);
    for (const legend of ["p50", "p99", "p999", "gateways", "load workers", "redis"])
      assert.match(page, new RegExp(`>${legend}<`));
    // RSS in MB: the gateways' 200 MB sample sets the axis (niceMax: 200).
    assert.match(page, />200</);
  });
});
