// `rtgw load` flags: commander's option values → the options runLoad takes, or sentences naming each bad flag.
// The bounds are runLoad's own (load/run-load.ts), so whatever passes here also passes there.
import { decodeJwt } from "jose";
import { z } from "zod";
import { type Parsed, parseFlags } from "../config/parse.js";
import { boolean, choice, integer, number, rule, seconds, text } from "../config/rules.js";
import { MAX_CONNECTIONS_PER_WORKER } from "../loadtest/src/load/plan.js";
import type { LoadOptions } from "../loadtest/src/load/run-load.js";
import { channelName, MAX_CHANNEL_LENGTH } from "../protocol/index.js";

export const LOAD_LIMITS = {
  connections: 2_000_000,
  rampSeconds: 3_600,
  holdSeconds: 86_400,
  channels: 100_000,
  publishRate: 1_000_000,
  workers: 250,
} as const;

/** Workers bind 127.x.y.z source addresses (plan.ts), so a target must be on loopback; the lean client speaks ws:// only. */
export function isLoopbackWsUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  const loopback = url.hostname === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
  return url.protocol === "ws:" && loopback && url.pathname !== "/" && !url.username && !url.hash;
}

export const targetFlag = z
  .string()
  .refine(
    isLoopbackWsUrl,
    rule("a ws:// URL with a path on a loopback host (127.x.y.z or localhost), e.g. ws://127.0.0.1:8080/ws"),
  );

export const connectionsFlag = integer(1, LOAD_LIMITS.connections);
export const rampSecondsFlag = seconds({ min: 0, max: LOAD_LIMITS.rampSeconds });
export const holdSecondsFlag = seconds({ min: 0, max: LOAD_LIMITS.holdSeconds });
export const channelsFlag = integer(1, LOAD_LIMITS.channels);
export const publishRateFlag = number({ min: 0, max: LOAD_LIMITS.publishRate });

/** "auto" (one worker per 16,000 connections) or a count. */
export const workersFlag = z.union(
  [z.literal("auto"), integer(1, LOAD_LIMITS.workers)],
  rule(`"auto" or an integer between 1 and ${LOAD_LIMITS.workers}`),
);

/** No worker may hold more than fits in one process's open files (a worker with no share is allowed: idle). */
export function checkWorkerShare(connections: number, workers: number | "auto", ctx: z.RefinementCtx): void {
  if (workers === "auto") return;
  const share = Math.ceil(connections / workers);
  if (share > MAX_CONNECTIONS_PER_WORKER)
    ctx.addIssue({
      code: "custom",
      message:
        `--workers ${workers} would hold ${share} connections each; at most ${MAX_CONNECTIONS_PER_WORKER} fit in one ` +
        `process (give --workers ${Math.ceil(connections / MAX_CONNECTIONS_PER_WORKER)} or more, or "auto")`,
    });
}

function isJwt(token: string): boolean {
  try {
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}

const loadFlagsSchema = z
  .object({
    target: z.array(targetFlag).min(1, {
      error: "is required: one or more ws:// URLs, e.g. --target ws://127.0.0.1:8080/ws",
    }),
    connections: connectionsFlag,
    rampSeconds: rampSecondsFlag,
    holdSeconds: holdSecondsFlag,
    channels: channelsFlag,
    channelPrefix: text(
      "the start of a channel name (letters, digits and _ - : . @ / =)",
      /^[A-Za-z0-9_\-:.@/=]+$/,
    ),
    publishRate: publishRateFlag,
    // The gateway refuses API keys shorter than 8 characters (RTGW_API_KEY), so a shorter one never matches.
    // Credentials: an error gives their length, never the value.
    apiKey: text("at least 8 characters (RTGW_API_KEY's rule)", /^.{8,}$/s, { secret: true }).optional(),
    token: z
      .string()
      .refine(isJwt, rule("a JWT (header.payload.signature)", { secret: true }))
      .optional(),
    jwtSecret: text("a non-empty HS256 secret (the gateway's RTGW_JWT_SECRET)", /\S/, {
      secret: true,
    }).optional(),
    json: text("a file path").optional(),
    html: text("a file path").optional(),
    workers: workersFlag,
    dialect: choice(["rtgw", "socketio"]),
    reconnect: boolean(),
    quiet: boolean().default(false),
  })
  .superRefine((f, ctx) => {
    if (f.token !== undefined && f.jwtSecret !== undefined)
      ctx.addIssue({
        code: "custom",
        message: "give --token or --jwt-secret, not both (--jwt-secret mints a token per worker)",
      });
    checkWorkerShare(f.connections, f.workers, ctx);
    // The prefix's characters are checked above; what the number adds can still pass the length limit.
    const lastChannel = `${f.channelPrefix}${f.channels - 1}`;
    if (!channelName.safeParse(lastChannel).success)
      ctx.addIssue({
        code: "custom",
        message: `--channel-prefix ${JSON.stringify(f.channelPrefix)} with --channels ${f.channels} makes channel names up to ${lastChannel.length} characters; at most ${MAX_CHANNEL_LENGTH} are allowed`,
      });
    // Without a key the publisher is a WebSocket connection speaking our protocol, which Socket.IO does not.
    if (f.dialect === "socketio" && f.publishRate > 0 && f.apiKey === undefined)
      ctx.addIssue({
        code: "custom",
        message:
          "--dialect socketio publishes through POST /api/publish only: give --api-key, or --publish-rate 0",
      });
  })
  .transform(
    (f): LoadOptions => ({
      targets: f.target,
      connections: f.connections,
      rampSeconds: f.rampSeconds,
      holdSeconds: f.holdSeconds,
      channels: f.channels,
      channelPrefix: f.channelPrefix,
      publishRate: f.publishRate,
      apiKey: f.apiKey,
      token: f.token,
      jwtSecret: f.jwtSecret,
      json: f.json,
      html: f.html,
      workers: f.workers,
      dialect: f.dialect,
      reconnect: f.reconnect,
      quiet: f.quiet,
    }),
  );

/** Commander's option values for `rtgw load` (attribute names: --ramp-seconds → rampSeconds). */
export function parseLoadFlags(raw: Record<string, unknown>): Parsed<LoadOptions> {
  return parseFlags(loadFlagsSchema, raw);
}
