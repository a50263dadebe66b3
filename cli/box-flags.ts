// `rtgw bench box` flags: commander's option values → runBox's options, or sentences naming each bad flag. Flags
// left out come from the box plan for the connection count (loadtest/src/box/plan.ts): issue 14's 500,000 scenario
// by default, and a coherent scaled-down run for a smaller --connections.
import { z } from "zod";
import { type Parsed, parseFlags } from "../config/parse.js";
import { integer, rule, text } from "../config/rules.js";
import { boxPlan, CONNECTIONS_PER_GATEWAY } from "../loadtest/src/box/plan.js";
import type { BoxOptions } from "../loadtest/src/box/run-box.js";
import { workerCount } from "../loadtest/src/load/plan.js";
import {
  channelsFlag,
  checkWorkerShare,
  connectionsFlag,
  holdSecondsFlag,
  publishRateFlag,
  rampSecondsFlag,
  workersFlag,
} from "./load-flags.js";

/** Gateway processes on one 2-core machine: past this the box measures scheduling, not the gateway. */
export const MAX_BOX_GATEWAYS = 64;

export interface BoxFlagContext {
  /** Connections one gateway process may hold here (its open-file limit); unknown: not checked. */
  gatewayCapacity: number | undefined;
}

function boxFlagsSchema({ gatewayCapacity }: BoxFlagContext) {
  return z
    .object({
      connections: connectionsFlag,
      gateways: integer(1, MAX_BOX_GATEWAYS).optional(),
      workers: workersFlag.optional(),
      rampSeconds: rampSecondsFlag.optional(),
      holdSeconds: holdSecondsFlag,
      channels: channelsFlag,
      publishRate: publishRateFlag,
      // The load report is written beside it as *-load.json: any other name would make the two one file.
      out: z.string().regex(/\S\.json$/, rule("a file path ending in .json")),
      report: text("a file path").optional(),
      updateReadme: text("a file path").optional(),
      profile: z.boolean().optional(),
      // Message rates for a frontier run: the box once per rate, e.g. "5,10,22".
      frontier: z
        .string()
        .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?){0,7}$/, rule("1 to 8 comma-separated message rates, e.g. 5,10,22"))
        .optional(),
    })
    .transform((f) => {
      const plan = boxPlan(f.connections);
      return {
        ...f,
        gateways: f.gateways ?? plan.gateways,
        workers: f.workers ?? plan.workers,
        rampSeconds: f.rampSeconds ?? plan.rampSeconds,
      };
    })
    .superRefine((f, ctx) => {
      if (f.gateways > MAX_BOX_GATEWAYS) {
        ctx.addIssue({
          code: "custom",
          message:
            `--connections ${f.connections} needs ${f.gateways} gateways at ${CONNECTIONS_PER_GATEWAY} each; ` +
            `at most ${MAX_BOX_GATEWAYS} run on this machine`,
        });
        return;
      }
      checkWorkerShare(f.connections, f.workers, ctx);
      const perGateway = Math.ceil(f.connections / f.gateways);
      if (gatewayCapacity !== undefined && perGateway > gatewayCapacity)
        ctx.addIssue({
          code: "custom",
          message:
            `--gateways ${f.gateways} would hold ${perGateway} connections each; one gateway holds at most ` +
            `${gatewayCapacity} here (its open-file limit): give --gateways ${Math.ceil(f.connections / gatewayCapacity)} or more`,
        });
    })
    .transform(
      (f): BoxOptions => ({
        connections: f.connections,
        gateways: f.gateways,
        workers: workerCount(f.connections, f.workers),
        rampSeconds: f.rampSeconds,
        holdSeconds: f.holdSeconds,
        channels: f.channels,
        publishRate: f.publishRate,
        json: f.out,
        // Beside the results unless named: a run with --out elsewhere must not overwrite the committed report.
        html: f.report ?? f.out.replace(/\.json$/, ".html"),
        readme: f.updateReadme,
        ...(f.profile ? { profile: true } : {}),
        ...(f.frontier ? { frontier: f.frontier.split(",").map(Number) } : {}),
      }),
    );
}

/** Commander's option values for `rtgw bench box`. */
export function parseBoxFlags(raw: Record<string, unknown>, context: BoxFlagContext): Parsed<BoxOptions> {
  return parseFlags(boxFlagsSchema(context), raw);
}
