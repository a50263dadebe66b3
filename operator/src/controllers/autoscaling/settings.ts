// The autoscaling controller's tunables (RTGW_AUTOSCALER_*, RTGW_REBALANCE_*), read from the environment once, at
// `rtgw operator` start, by the rules every setting shares (config/rules.ts); a bad value exits 2 there, naming
// the variable. The controller is handed the result. The defaults suit a real cluster; the e2e run shortens them.
import { z } from "zod";
import { type Parsed, parseEnv } from "../../../../config/parse.js";
import { boolean, fraction, seconds } from "../../../../config/rules.js";
import { DEFAULT_REBALANCE, type RebalanceSpec } from "./rebalance.js";

const positiveSeconds = () => seconds({ min: 0, above: true });

/** Every variable the autoscaler reads, with its rule and default. */
export const autoscalingVariables = z.object({
  RTGW_AUTOSCALER_INTERVAL_SECONDS: positiveSeconds().default(5),
  RTGW_AUTOSCALER_SCRAPE_TIMEOUT_SECONDS: positiveSeconds().default(2),
  RTGW_REBALANCE: boolean().default(true),
  RTGW_REBALANCE_SPREAD_FRACTION: fraction().default(DEFAULT_REBALANCE.spreadFraction),
  RTGW_REBALANCE_SUSTAIN_SECONDS: seconds({ min: 0 }).default(DEFAULT_REBALANCE.sustainSeconds),
  RTGW_REBALANCE_ROUND_SECONDS: positiveSeconds().default(DEFAULT_REBALANCE.roundSeconds),
  RTGW_REBALANCE_MAX_SHED_FRACTION: fraction().default(DEFAULT_REBALANCE.maxShedFraction),
});

export interface AutoscalingSettings {
  intervalMs: number;
  scrapeTimeoutMs: number;
  rebalance: RebalanceSpec;
}

/** Pure: the settings, or one sentence per bad variable. */
export function parseAutoscalingSettings(
  env: Readonly<Record<string, string | undefined>>,
): Parsed<AutoscalingSettings> {
  const parsed = parseEnv(autoscalingVariables, "RTGW_", env);
  if (!parsed.ok) return parsed;
  const e = parsed.value;
  return {
    ok: true,
    value: {
      intervalMs: e.autoscalerIntervalSeconds * 1000,
      scrapeTimeoutMs: e.autoscalerScrapeTimeoutSeconds * 1000,
      rebalance: {
        ...DEFAULT_REBALANCE,
        spreadFraction: e.rebalanceSpreadFraction,
        sustainSeconds: e.rebalanceSustainSeconds,
        roundSeconds: e.rebalanceRoundSeconds,
        maxShedFraction: e.rebalanceMaxShedFraction,
        // Disabled = a bound no fleet reaches.
        ...(e.rebalance ? {} : { minSpread: Number.POSITIVE_INFINITY }),
      },
    },
  };
}

/** What an unset environment gives. */
export const DEFAULT_AUTOSCALING_SETTINGS: AutoscalingSettings = (() => {
  const parsed = parseAutoscalingSettings({});
  if (!parsed.ok) throw new Error(parsed.errors.join("; ")); // the defaults above break a rule: a bug
  return parsed.value;
})();
