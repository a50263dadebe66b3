// The autoscaling controller's tunables from the environment (RTGW_AUTOSCALER_*, RTGW_REBALANCE_*), parsed with
// zod. The defaults suit a real cluster; the e2e run shortens them.
import { z } from "zod";
import { DEFAULT_REBALANCE, type RebalanceSpec } from "./rebalance.js";

const seconds = z.coerce.number().positive();
const fraction = z.coerce.number().gt(0).max(1);
export const autoscalingEnvSchema = z.object({
  RTGW_AUTOSCALER_INTERVAL_SECONDS: seconds.default(5),
  RTGW_AUTOSCALER_SCRAPE_TIMEOUT_SECONDS: seconds.default(2),
  RTGW_REBALANCE: z.enum(["true", "false"]).default("true"),
  RTGW_REBALANCE_SPREAD_FRACTION: fraction.default(DEFAULT_REBALANCE.spreadFraction),
  RTGW_REBALANCE_SUSTAIN_SECONDS: z.coerce.number().min(0).default(DEFAULT_REBALANCE.sustainSeconds),
  RTGW_REBALANCE_ROUND_SECONDS: seconds.default(DEFAULT_REBALANCE.roundSeconds),
  RTGW_REBALANCE_MAX_SHED_FRACTION: fraction.default(DEFAULT_REBALANCE.maxShedFraction),
});

export interface AutoscalingSettings {
  intervalMs: number;
  scrapeTimeoutMs: number;
  rebalance: RebalanceSpec;
}

/** Throws a readable error naming the variable when a value is out of range. */
export function autoscalingSettingsFromEnv(env: NodeJS.ProcessEnv): AutoscalingSettings {
  const parsed = autoscalingEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid ${String(issue?.path[0])}: ${issue?.message}`);
  }
  const e = parsed.data;
  return {
    intervalMs: e.RTGW_AUTOSCALER_INTERVAL_SECONDS * 1000,
    scrapeTimeoutMs: e.RTGW_AUTOSCALER_SCRAPE_TIMEOUT_SECONDS * 1000,
    rebalance: {
      ...DEFAULT_REBALANCE,
      spreadFraction: e.RTGW_REBALANCE_SPREAD_FRACTION,
      sustainSeconds: e.RTGW_REBALANCE_SUSTAIN_SECONDS,
      roundSeconds: e.RTGW_REBALANCE_ROUND_SECONDS,
      maxShedFraction: e.RTGW_REBALANCE_MAX_SHED_FRACTION,
      // Disabled = a bound no fleet reaches.
      ...(e.RTGW_REBALANCE === "false" ? { minSpread: Number.POSITIVE_INFINITY } : {}),
    },
  };
}
