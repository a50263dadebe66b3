// The pure core of a socket's subscribe on one node (the hub's side of the sequencing): where its stream starts,
// and how it follows what the broker handed this node since the socket arrived (the history read, live batches,
// resyncs) so that every offset reaches it once, in order, and every epoch change or hole is announced (a resync
// before the first message after it) instead of being spliced onto the old stream.
import type { BrokerMessage, Position } from "../broker/broker.js";
import type { Cursor } from "./sequence.js";

/** What the broker handed this node for a channel, in order: a batch of messages, or a resync. */
export type LiveItem = readonly BrokerMessage[] | { resync: Position };

/** What a socket is sent, in order: runs of messages and resyncs (the stream continues after `resync`). */
export type Output = { messages: BrokerMessage[] } | { resync: Position };

/**
 * Where a subscribing socket's stream starts: after `since` when history reached back to it (`complete`), or when
 * it belongs to this epoch and is not ahead of the channel (the rest of a history that no longer reaches back is
 * still replayed, after the ack said `recovered: false`); otherwise at the current position.
 */
export function replayStart(
  since: number | undefined,
  clientEpoch: string | undefined,
  complete: boolean,
  position: Position,
): Cursor {
  if (since === undefined) return { offset: position.offset, epoch: position.epoch };
  const sameEpoch = clientEpoch === undefined || clientEpoch === position.epoch;
  const resumable = complete || (sameEpoch && since <= position.offset);
  return { offset: resumable ? since : position.offset, epoch: position.epoch };
}

/**
 * Follow a channel's items from `cursor`. A message of the cursor's epoch is passed on when past the cursor; one of
 * another epoch belongs to a stream from before the cursor (the broker announces every change of epoch with a
 * resync first) and is skipped. A resync into another epoch, or past the cursor in its epoch, is passed on and moves
 * the cursor; one the cursor already covers (the position read after it) is skipped.
 */
export function follow(cursor: Cursor, items: Iterable<LiveItem>): { out: Output[]; cursor: Cursor } {
  const out: Output[] = [];
  let run: BrokerMessage[] | undefined;
  let at = cursor;
  for (const item of items) {
    if ("resync" in item) {
      const r = item.resync;
      if (r.epoch === at.epoch && r.offset <= at.offset) continue;
      out.push({ resync: r });
      run = undefined;
      at = { offset: r.offset, epoch: r.epoch };
      continue;
    }
    for (const m of item) {
      if (m.epoch !== at.epoch || m.offset <= at.offset) continue;
      if (!run) {
        run = [];
        out.push({ messages: run });
      }
      run.push(m);
      at = { offset: m.offset, epoch: m.epoch };
    }
  }
  return { out, cursor: at };
}

/** The history read, then the live items buffered while it was in flight, followed from the start. */
export function mergeReplay(
  start: Cursor,
  history: readonly BrokerMessage[],
  buffered: readonly LiveItem[],
): { out: Output[]; cursor: Cursor } {
  return follow(start, [history, ...buffered]);
}

/**
 * The live stream stands at or past what was sent to the socket, in its epoch: it can join the topic now. With
 * nothing live yet, only at offset 0 (a channel without messages): no message at or before it can still come, and
 * a socket on an idle channel would otherwise wait off the topic, holding its catch-up state, until the first.
 */
export function livePassed(sent: Cursor, live: Cursor | undefined): boolean {
  if (live === undefined) return sent.offset === 0;
  return live.epoch === sent.epoch && live.offset >= sent.offset;
}
