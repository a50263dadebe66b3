// The pure core of gap-free delivery on one node, the broker's side: given where a channel's stream stands (the
// cursor: last offset handed to the hub, and its epoch), decide what to do with a live message, how to merge a
// history read with live messages held back while that read was in flight, and whether a read is complete. No
// I/O here: broker/redis/stream.ts runs the effects, memory.ts uses historyComplete; the hub's side is replay.ts.
import type { BrokerMessage, HistoryResult, Position } from "../broker/broker.js";

export interface Cursor {
  offset: number;
  epoch: string;
}

export type Verdict =
  /** The next message: hand it on. */
  | "deliver"
  /** At or behind the cursor: already handed on (or covered by the position the hub acked). */
  | "duplicate"
  /** Ahead of cursor + 1 in the same epoch: something was missed; read history to fill the hole. */
  | "gap"
  /** A new epoch: the channel's keys were recreated (flush, restart, expiry). */
  | "new-epoch";

export function judge(cursor: Cursor, message: BrokerMessage): Verdict {
  if (message.epoch !== cursor.epoch) return "new-epoch";
  if (message.offset <= cursor.offset) return "duplicate";
  return message.offset === cursor.offset + 1 ? "deliver" : "gap";
}

/** One thing to hand the hub, in order: a message, or a resync (the stream restarts after `position`). */
export type Emission = { message: BrokerMessage } | { resync: Position };

export interface Step {
  emit: Emission[];
  cursor: Cursor;
}

/**
 * Apply messages in order. A new epoch becomes a resync to just before the message (nothing of the new epoch
 * before it was seen here), then the message. A gap stops the walk: `rest` holds the message that revealed it
 * and everything after, for the caller to hold while it reads history.
 */
export function applyLive(
  cursor: Cursor,
  messages: readonly BrokerMessage[],
): Step & { rest: BrokerMessage[] } {
  const emit: Emission[] = [];
  let current = cursor;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as BrokerMessage;
    const verdict = judge(current, message);
    if (verdict === "duplicate") continue;
    if (verdict === "gap") return { emit, cursor: current, rest: messages.slice(i) };
    if (verdict === "new-epoch") emit.push({ resync: { offset: message.offset - 1, epoch: message.epoch } });
    emit.push({ message });
    current = { offset: message.offset, epoch: message.epoch };
  }
  return { emit, cursor: current, rest: [] };
}

/**
 * Merge a history read (made after the live subscription was restored) with the live messages held meanwhile.
 * Complete history in the same epoch: deliver what followed the cursor, then the held messages past it.
 * Otherwise the hole cannot be filled: resync at the history's position and continue live from there.
 */
export function mergeRecovery(cursor: Cursor, history: HistoryResult, held: readonly BrokerMessage[]): Step {
  const filled = history.complete && history.epoch === cursor.epoch;
  if (!filled) {
    const position = { offset: history.offset, epoch: history.epoch };
    const live = resyncThrough(position, held);
    return { emit: [{ resync: position }, ...live.emit], cursor: live.cursor };
  }
  const fromHistory = history.messages.filter((m) => m.offset > cursor.offset);
  const live = resyncThrough(cursor, [...fromHistory, ...held]);
  return live;
}

/**
 * applyLive, but a hole becomes a resync instead of a stop. Used where history was already read up to the
 * present, so a hole can only mean Redis dropped pub/sub output: resync rather than guess.
 */
function resyncThrough(cursor: Cursor, messages: readonly BrokerMessage[]): Step {
  let step = applyLive(cursor, messages);
  // Appended one by one: push(...list) passes each element as an argument and throws past ~125,000 of them.
  const emit = step.emit;
  while (step.rest.length > 0) {
    const first = step.rest[0] as BrokerMessage;
    const position = { offset: first.offset - 1, epoch: first.epoch };
    emit.push({ resync: position });
    step = applyLive(position, step.rest);
    for (const emission of step.emit) emit.push(emission);
  }
  return { emit, cursor: step.cursor };
}

/**
 * Completeness of a history read (`messages`: what it returned, oldest first): nothing missing between `since`
 * and the position (the first message is since + 1, the last is the position's offset), and the client's epoch
 * (when it sent one) is the channel's. `since` 0 means the client saw nothing, so any epoch is fine.
 */
export function historyComplete(
  since: number,
  clientEpoch: string | undefined,
  position: Position,
  messages: readonly { offset: number }[],
): boolean {
  if (since > 0 && clientEpoch !== undefined && clientEpoch !== position.epoch) return false;
  if (since > position.offset) return false;
  if (since === position.offset) return true;
  return messages[0]?.offset === since + 1 && messages[messages.length - 1]?.offset === position.offset;
}
