// The autoscaler's tunables from RTGW_AUTOSCALER_* / RTGW_REBALANCE_*: parsed once at start by the shared rules;
// each row is an environment and the settings or the exact sentences `rtgw operator` exits 2 with.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SWITCH_SPELLINGS } from "../../../test-support/switch-spellings.js";
import { DEFAULT_REBALANCE } from "../../src/controllers/autoscaling/rebalance.js";
import {
  DEFAULT_AUTOSCALING_SETTINGS,
  parseAutoscalingSettings,
} from "../../src/controllers/autoscaling/settings.js";

describe("autoscaling settings", () => {
  it("defaults suit a real cluster", () => {
    assert.deepEqual(DEFAULT_AUTOSCALING_SETTINGS, {
      intervalMs: 5000,
      scrapeTimeoutMs: 2000,
      rebalance: DEFAULT_REBALANCE,
    });
  });

  it("reads every variable (the e2e run's shortened values)", () => {
    assert.deepEqual(
      parseAutoscalingSettings({
        RTGW_AUTOSCALER_INTERVAL_SECONDS: "1",
        RTGW_AUTOSCALER_SCRAPE_TIMEOUT_SECONDS: "0.5",
        RTGW_REBALANCE_SUSTAIN_SECONDS: "0",
        RTGW_REBALANCE_ROUND_SECONDS: "2",
        RTGW_REBALANCE_SPREAD_FRACTION: "0.3",
        RTGW_REBALANCE_MAX_SHED_FRACTION: "1",
      }),
      {
        ok: true,
        value: {
          intervalMs: 1000,
          scrapeTimeoutMs: 500,
          rebalance: {
            ...DEFAULT_REBALANCE,
            sustainSeconds: 0,
            roundSeconds: 2,
            spreadFraction: 0.3,
            maxShedFraction: 1,
          },
        },
      },
    );
  });

  it("RTGW_REBALANCE takes true, false, 1 and 0 like every switch", () => {
    for (const [value, on] of SWITCH_SPELLINGS) {
      const parsed = parseAutoscalingSettings({ RTGW_REBALANCE: value });
      assert.ok(parsed.ok);
      assert.equal(parsed.value.rebalance.minSpread === Number.POSITIVE_INFINITY, !on, value);
    }
  });

  const bad: Array<[string, Record<string, string>, string[]]> = [
    [
      "a word for the switch",
      { RTGW_REBALANCE: "yes" },
      ['RTGW_REBALANCE must be true, false, 1 or 0 (got "yes")'],
    ],
    [
      "a zero interval",
      { RTGW_AUTOSCALER_INTERVAL_SECONDS: "0" },
      ["RTGW_AUTOSCALER_INTERVAL_SECONDS must be a number of seconds above 0 (got 0)"],
    ],
    [
      "a fraction past 1, and a negative sustain",
      { RTGW_REBALANCE_SPREAD_FRACTION: "1.5", RTGW_REBALANCE_SUSTAIN_SECONDS: "-1" },
      [
        "RTGW_REBALANCE_SPREAD_FRACTION must be a number above 0 and at most 1 (got 1.5)",
        "RTGW_REBALANCE_SUSTAIN_SECONDS must be a number of seconds, at least 0 (got -1)",
      ],
    ],
  ];
  for (const [name, env, errors] of bad) {
    it(`rejects ${name}`, () => {
      assert.deepEqual(parseAutoscalingSettings(env), { ok: false, errors });
    });
  }
});
