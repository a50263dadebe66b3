// The model's verdict on one application handler, pure: given what the model published (each message's era and
// offset, known from its ack) and what the handler was handed (sdk-observer.ts), list every broken promise:
// an offset of an epoch twice or out of order, a message that does not continue the stream with no gap announced
// before it (two epochs spliced, offsets skipped), a subscription the SDK ended on its own, a message lost.
//
// An "era" is the model's count of Redis faults that renew every channel's epoch (restart empty, failover): within
// one era a channel has one epoch and its offsets run 1, 2, 3... Eras, not epoch strings, identify a message,
// because a publish through the SDK does not say its epoch; the strings seen (HTTP answers, acks, gap events)
// are mapped to eras by EpochEras.
import type { Observation } from "./sdk-observer.js";

export interface PublishRecord {
  n: number;
  channel: string;
  era: number;
  /** From the ack; undefined when the outcome is unknown (timeout, dropped socket): it may still have landed. */
  offset?: number;
  outcome: "acked" | "unknown" | "refused";
}

export interface HandlerRecord {
  /** e.g. "c2 ch1 #3": client, channel, the model's subscription number. */
  id: string;
  channel: string;
  since?: number;
  sinceEpoch?: string;
  /** The first ack, if it came while the subscribe command waited (era: the model's era then). */
  ready?: { offset?: number; epoch?: string; recovered?: boolean; era?: number };
  observations: readonly Observation[];
  /** The application's last-published marker on this channel, which it must have got (active at the end). */
  marker?: number;
}

export type Rule =
  | "duplicate"
  | "out_of_order"
  | "silent_gap"
  | "unannounced_epoch_change"
  | "gap_misplaced"
  | "mislabelled"
  | "unknown_message"
  | "ended_by_sdk"
  | "lost"
  /** One epoch string in two eras: the broker did not renew it across a fault (offsets could be reissued). */
  | "epoch_reused";

export interface Violation {
  handler: string;
  rule: Rule;
  detail: string;
}

/** Which era each epoch string of a channel belongs to, learned as they are seen. */
export class EpochEras {
  readonly #eras = new Map<string, number>();

  /** Record that `epoch` was current on `channel` in `era`; a string seen in two eras is returned as a conflict. */
  note(channel: string, epoch: string | undefined, era: number): string | undefined {
    if (epoch === undefined) return undefined;
    const key = `${channel}\u0000${epoch}`;
    const known = this.#eras.get(key);
    if (known === undefined) this.#eras.set(key, era);
    else if (known !== era)
      return `epoch ${short(epoch)} of ${channel} seen in era ${known} and again in era ${era}`;
    return undefined;
  }

  eraOf(channel: string, epoch: string | undefined): number | undefined {
    return epoch === undefined ? undefined : this.#eras.get(`${channel}\u0000${epoch}`);
  }
}

interface Position {
  /** undefined: an epoch the model could not place, so only "later than before" is checked. */
  era: number | undefined;
  offset: number;
}

const show = (p: Position) => `${p.era === undefined ? "E?" : `E${p.era}`}:${p.offset}`;
const short = (epoch: string) => (epoch.length > 12 ? `…${epoch.slice(-8)}` : epoch);

/** Strictly later: a later era, or the same era and a higher offset. */
function later(a: { era: number; offset: number }, b: { era: number; offset: number }): boolean {
  return a.era > b.era || (a.era === b.era && a.offset > b.offset);
}

export function checkHandler(
  h: HandlerRecord,
  published: ReadonlyMap<number, PublishRecord>,
  eras: EpochEras,
): Violation[] {
  const out: Violation[] = [];
  const fail = (rule: Rule, detail: string) => out.push({ handler: h.id, rule, detail });
  const seen = new Set<number>();
  let previous: { era: number; offset: number } | undefined;
  let cursor: Position | undefined = base(h, eras);
  let announced: Position | undefined;

  for (const o of h.observations) {
    if (o.kind === "gap") {
      announced = { era: eras.eraOf(h.channel, o.epoch), offset: o.offset };
      cursor = announced;
      continue;
    }
    if (o.kind === "ended") {
      if (h.ready)
        fail(
          "ended_by_sdk",
          `the SDK ended the subscription (${o.code}) though the application never unsubscribed; last delivered ${previous ? show(previous) : "nothing"}`,
        );
      continue;
    }
    const record = published.get(o.n);
    if (!record || record.channel !== h.channel) {
      fail("unknown_message", `handed n=${o.n} at offset ${o.offset}, which the model never published here`);
      continue;
    }
    if (record.offset !== undefined && record.offset !== o.offset)
      fail("mislabelled", `n=${o.n} was published at offset ${record.offset}, handed as offset ${o.offset}`);
    const at = { era: record.era, offset: record.offset ?? o.offset };
    if (seen.has(o.n)) {
      // Reported once; the stream goes on from it (what follows is judged against it, not reported again).
      fail("duplicate", `${show(at)} (n=${o.n}) handed twice`);
      previous = at;
      cursor = at;
      announced = undefined;
      continue;
    }
    seen.add(o.n);
    if (previous && !later(at, previous)) fail("out_of_order", `${show(at)} handed after ${show(previous)}`);
    else if (
      cursor &&
      cursor.era !== undefined &&
      (cursor.era !== at.era || cursor.offset + 1 !== at.offset)
    ) {
      if (announced)
        fail(
          "gap_misplaced",
          `a gap was announced to continue after ${show(announced)}, then ${show(at)} came`,
        );
      else if (cursor.era !== at.era)
        fail(
          "unannounced_epoch_change",
          `${show(at)} handed right after ${show(cursor)}: a new epoch spliced on with no gap announced`,
        );
      else fail("silent_gap", `${show(at)} handed right after ${show(cursor)}, no gap announced`);
    }
    previous = at;
    cursor = at;
    announced = undefined;
  }

  const ended = h.ready !== undefined && h.observations.some((o) => o.kind === "ended");
  if (h.marker !== undefined && markerState(h, published, eras) === "missing" && !ended) {
    const marker = published.get(h.marker);
    fail(
      "lost",
      `the final marker n=${h.marker}${marker?.offset === undefined ? "" : ` (${show({ era: marker.era, offset: marker.offset })})`}, published after every fault was repaired, never arrived; last delivered ${previous ? show(previous) : "nothing"}`,
    );
  }
  return out;
}

/**
 * The handler's final marker: delivered, covered by a gap announced at or past it (a resubscribe acked after it
 * with recovered:false skips it, and says so), or missing.
 */
export function markerState(
  h: HandlerRecord,
  published: ReadonlyMap<number, PublishRecord>,
  eras: EpochEras,
): "delivered" | "covered" | "missing" | "none" {
  if (h.marker === undefined) return "none";
  if (h.observations.some((o) => o.kind === "message" && o.n === h.marker)) return "delivered";
  const marker = published.get(h.marker);
  if (marker?.offset === undefined) return "missing";
  const at = { era: marker.era, offset: marker.offset };
  const covered = h.observations.some((o) => {
    if (o.kind !== "gap") return false;
    const era = eras.eraOf(h.channel, o.epoch);
    return era !== undefined && !later(at, { era, offset: o.offset });
  });
  return covered ? "covered" : "missing";
}

/** Where the first message must continue from: `since` when the application gave one, else the ack's offset. */
function base(h: HandlerRecord, eras: EpochEras): Position | undefined {
  if (!h.ready) return undefined;
  const ackEra = h.ready.era ?? eras.eraOf(h.channel, h.ready.epoch);
  if (h.since !== undefined) {
    const era = h.sinceEpoch === undefined ? ackEra : eras.eraOf(h.channel, h.sinceEpoch);
    return { era, offset: h.since };
  }
  return { era: ackEra, offset: h.ready.offset ?? 0 };
}
