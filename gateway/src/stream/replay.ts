// The pure core of a socket's subscribe on one node (the hub's side of the sequencing): where its stream starts,
// how the history read merges with the live messages buffered meanwhile, and when the live stream has caught up
// with what was sent so the socket can join the channel's topic. Decisions through judge() (sequence.ts).
import type { BrokerMessage, Position } from "../broker/broker.js";
import { type Cursor, judge } from "./sequence.js";

/**
 * Where a subscribing socket's stream starts: after `since` when it belongs to this epoch and is not ahead of the
 * channel; otherwise at the current position (and `recovered: false` told the client so).
 */
export function replayStart(
  since: number | undefined,
  clientEpoch: string | undefined,
  position: Position,
): Cursor {
  const sameEpoch = clientEpoch === undefined || clientEpoch === position.epoch;
  const offset = since !== undefined && sameEpoch && since <= position.offset ? since : position.offset;
  return { offset, epoch: position.epoch };
}

/**
 * Merge a history read (made after the channel went live on this node) with the live messages buffered while it
 * was in flight: each offset after the cursor once, in order; another epoch's messages are not this stream's.
 */
export function mergeReplay(
  start: Cursor,
  history: readonly BrokerMessage[],
  buffered: readonly (readonly BrokerMessage[])[],
): { messages: BrokerMessage[]; cursor: Cursor } {
  const messages: BrokerMessage[] = [];
  let cursor = start;
  for (const list of [history, ...buffered]) {
    for (const m of list) {
      const verdict = judge(cursor, m);
      if (verdict === "duplicate" || verdict === "new-epoch") continue;
      messages.push(m);
      cursor = { offset: m.offset, epoch: m.epoch };
    }
  }
  return { messages, cursor };
}

/**
 * After the replay, before the socket is on the topic: of a live batch, the messages it has not had, and whether
 * the live stream has now reached what was sent (then it joins the topic and gets the rest from there).
 */
export function catchUp(
  sent: Cursor,
  batch: readonly BrokerMessage[],
): { fresh: BrokerMessage[]; caughtUp: boolean } {
  const fresh = batch.filter((m) => judge(sent, m) !== "duplicate");
  const tail = batch[batch.length - 1];
  return { fresh, caughtUp: tail !== undefined && (tail.epoch !== sent.epoch || tail.offset >= sent.offset) };
}

/** The live stream stands at or past what was sent to the socket, in its epoch: it can join the topic now. */
export function livePassed(sent: Cursor, live: Cursor | undefined): boolean {
  return live !== undefined && live.epoch === sent.epoch && live.offset >= sent.offset;
}
