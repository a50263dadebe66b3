// Messages between the load coordinator and its worker processes, parsed with zod on both sides.
import { z } from "zod";
import { DIALECTS } from "./dialect.js";

export const workerConfig = z.object({
  workerIndex: z.number().int().nonnegative(),
  targets: z.array(z.string()).min(1),
  dialect: z.enum(DIALECTS),
  first: z.number().int().nonnegative(),
  connections: z.number().int().nonnegative(),
  sourceAddresses: z.array(z.string()),
  rampSeconds: z.number().nonnegative(),
  channels: z.array(z.string()).min(1),
  token: z.string().optional(),
  /** track: parse every message (offsets, latency); count: only count messages (fan-out ceilings). */
  mode: z.enum(["track", "count"]),
  reportIntervalMs: z.number().int().positive(),
  /** Hard stop for the worker, whatever the coordinator says. */
  deadlineMs: z.number().int().positive(),
  /** Concurrent handshakes at most (a SYN flood against the accept queue only produces errors). */
  maxPendingConnects: z.number().int().positive(),
  reconnect: z.boolean(),
});
export type WorkerConfig = z.infer<typeof workerConfig>;

export const toWorker = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), config: workerConfig }),
  /** Stop reconnecting, count tail loss against the final offsets, report, and exit. */
  z.object({ type: z.literal("finish"), finalOffsets: z.record(z.string(), z.number()) }),
]);
export type ToWorker = z.infer<typeof toWorker>;

export const workerTick = z.object({
  type: z.literal("tick"),
  workerIndex: z.number(),
  atMs: z.number(),
  started: z.number(),
  opened: z.number(),
  held: z.number(),
  subscribed: z.number(),
  connectErrors: z.number(),
  delivered: z.number(),
  lost: z.number(),
  duplicated: z.number(),
  reconnects: z.number(),
  /** Latency percentiles of the messages since the previous tick, ms (null: none arrived). */
  intervalP50Ms: z.number().nullable(),
  intervalP99Ms: z.number().nullable(),
  intervalP999Ms: z.number().nullable(),
  /** The worker's resident set size, bytes. */
  rss: z.number(),
});
export type WorkerTick = z.infer<typeof workerTick>;

export const workerResult = z.object({
  type: z.literal("result"),
  workerIndex: z.number(),
  tick: workerTick,
  /** hdr-histogram-js compressed base64, microseconds. */
  latencyHistogram: z.string(),
  /** Seconds since the worker started at which each reconnect opened (bounded list). */
  reconnectTimes: z.array(z.number()),
  closeCodes: z.record(z.string(), z.number()),
  errorSamples: z.array(z.string()),
});
export type WorkerResult = z.infer<typeof workerResult>;

export const fromWorker = z.discriminatedUnion("type", [workerTick, workerResult]);
export type FromWorker = z.infer<typeof fromWorker>;
