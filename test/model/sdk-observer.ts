// The one place that knows how the client SDK tells an application what happened on a channel: a delivered
// message and its position, a gap announced ("continuity broke, refetch"), a subscription the SDK ended on its
// own. The model test reads only these observations, so an SDK change (the epoch on message frames, renamed
// events, a resync on every epoch change) is adapted here and nowhere else.
import type { Client, JsonValue, SubscribeResult } from "../../client/src/index.js";
import { TERMINAL_ERROR_CODES } from "../../protocol/index.js";

/** Error codes after which the SDK drops a subscription for good (the gateway ended it, or refused it for good). */
const ENDING_CODES: ReadonlySet<string> = new Set([...TERMINAL_ERROR_CODES, "unsubscribed"]);

/** What one application handler saw, in the order it saw it. */
export type Observation =
  /** A message handed to the handler: `n` is the model's id in the payload, offset/epoch what the SDK said. */
  | { kind: "message"; n: number; offset: number; epoch: string | undefined }
  /** A gap announced: delivery continues after `offset` of `epoch` (today: the SDK's `resync` event). */
  | { kind: "gap"; offset: number; epoch: string | undefined; reason: string }
  /** The SDK dropped the subscription by itself (today: an `error` event naming the channel). */
  | { kind: "ended"; code: string };

export interface ObservedSubscription {
  readonly channel: string;
  readonly observations: Observation[];
  /** The SDK's `ready`: settles with the first subscribe ack. */
  readonly ready: Promise<SubscribeResult>;
  unsubscribe(): void;
}

/** The payload the model publishes: a run-wide unique id, padded for the stalled-reader ballast. */
export function payload(n: number, padBytes = 0): JsonValue {
  return padBytes > 0 ? { n, pad: "x".repeat(padBytes) } : { n };
}

function payloadId(data: JsonValue): number {
  if (typeof data === "object" && data !== null && !Array.isArray(data)) {
    const n = (data as Record<string, JsonValue>).n;
    if (typeof n === "number") return n;
  }
  return -1;
}

/** Subscribe one application handler and record what the SDK hands it. */
export function observe(
  client: Client,
  channel: string,
  resume: { since?: number; epoch?: string } = {},
): ObservedSubscription {
  const observations: Observation[] = [];
  let active = true;
  const offResync = client.on("resync", (event) => {
    if (active && event.channel === channel)
      observations.push({ kind: "gap", offset: event.offset, epoch: event.epoch, reason: event.reason });
  });
  const offError = client.on("error", (error) => {
    // The SDK reports every refused (re)subscribe here, but retries those a retry can change (`unavailable`,
    // `rate_limited`, ...); only a terminal refusal ends the subscription.
    if (active && error.details.channel === channel && ENDING_CODES.has(error.code))
      observations.push({ kind: "ended", code: error.code });
  });
  const subscription = client.subscribe(
    channel,
    (data, meta) => {
      if (active)
        observations.push({ kind: "message", n: payloadId(data), offset: meta.offset, epoch: meta.epoch });
    },
    resume,
  );
  return {
    channel,
    observations,
    ready: subscription.ready,
    unsubscribe() {
      active = false;
      offResync();
      offError();
      subscription.unsubscribe();
    },
  };
}

/** Where an application that kept what it was handed would resume: after the last message or announced gap. */
export function resumePoint(
  observations: readonly Observation[],
): { since: number; epoch?: string } | undefined {
  for (let i = observations.length - 1; i >= 0; i--) {
    const o = observations[i];
    if (o && o.kind !== "ended")
      return o.epoch === undefined ? { since: o.offset } : { since: o.offset, epoch: o.epoch };
  }
  return undefined;
}

/** A publish through the SDK; the epoch only if the SDK reports one (today it does not). */
export async function publishThroughClient(
  client: Client,
  channel: string,
  data: JsonValue,
): Promise<{ offset: number; epoch?: string }> {
  const result: { offset: number; epoch?: unknown } = await client.publish(channel, data);
  return typeof result.epoch === "string"
    ? { offset: result.offset, epoch: result.epoch }
    : { offset: result.offset };
}
