// The per-channel delivery stream: turns whatever the socket brings (replays, live messages, batches,
// duplicates after a reconnect, messages that raced ahead of a subscribe ack) into each offset exactly
// once and in order, and says so when continuity is broken. Pure: no timers, no I/O.

export type ResyncReason =
  /** The subscribe ack said recovered:false: history did not reach back to `since` (or the epoch changed). */
  | "not_recovered"
  /** The gateway sent a `resync` frame: its broker lost part of the stream. */
  | "server_resync"
  /** A hole stayed open too long (or too much piled up behind it); the stream skipped past it. */
  | "gap"
  /**
   * A message of another epoch arrived with no resync before it (the gateway marks the first message of an epoch):
   * the stream restarted; what came before that message in the new epoch was not seen. Never spliced on the old.
   */
  | "new_epoch";

export interface ResyncNotice {
  kind: "resync";
  reason: ResyncReason;
  /** The stream continues after this offset. */
  offset: number;
  epoch: string | undefined;
  /** The last offset delivered before the break (undefined if nothing had been). */
  previousOffset: number | undefined;
}

export interface Delivery<T> {
  kind: "deliver";
  offset: number;
  data: T;
}

export type StreamOutput<T> = Delivery<T> | ResyncNotice;

export interface AckPosition {
  offset?: number | undefined;
  epoch?: string | undefined;
  recovered?: boolean | undefined;
}

export interface ChannelStreamOptions {
  /** Resume after this offset (e.g. persisted by the application). */
  since?: number | undefined;
  epoch?: string | undefined;
  /** Messages held behind a hole before the stream gives up on it. */
  maxPending?: number;
}

export class ChannelStream<T> {
  /** Last offset handed out (or the base the stream continues after); undefined before the first ack. */
  #last: number | undefined;
  #epoch: string | undefined;
  #awaitingAck = true;
  /** Held messages by offset, with the epoch their frame named (undefined: the stream's epoch when it came). */
  readonly #pending = new Map<number, { data: T; epoch: string | undefined }>();
  readonly #maxPending: number;
  #duplicates = 0;

  constructor(options: ChannelStreamOptions = {}) {
    this.#last = options.since;
    this.#epoch = options.epoch;
    this.#maxPending = options.maxPending ?? 10_000;
  }

  get lastOffset(): number | undefined {
    return this.#last;
  }

  get epoch(): string | undefined {
    return this.#epoch;
  }

  get duplicatesDropped(): number {
    return this.#duplicates;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Live, but holding messages behind a hole: the shell starts a timer and calls skipGap() if it stays. */
  get hasGap(): boolean {
    return !this.#awaitingAck && this.#pending.size > 0;
  }

  /** What the subscribe frame should carry. */
  resumePoint(): { since?: number; epoch?: string } {
    const point: { since?: number; epoch?: string } = {};
    if (this.#last !== undefined) point.since = this.#last;
    if (this.#epoch !== undefined) point.epoch = this.#epoch;
    return point;
  }

  /** A (re)subscribe is on its way: hold everything until its ack; the replay will resend what was held. */
  resubscribing(): void {
    this.#awaitingAck = true;
    this.#pending.clear();
  }

  onAck(ack: AckPosition): StreamOutput<T>[] {
    const out: StreamOutput<T>[] = [];
    const previousEpoch = this.#epoch;
    if (ack.epoch !== undefined) this.#epoch = ack.epoch;
    if (this.#last === undefined) {
      // Fresh subscription: start after the channel's position when it began.
      this.#last = ack.offset ?? 0;
    } else {
      const epochChanged =
        ack.epoch !== undefined && previousEpoch !== undefined && ack.epoch !== previousEpoch;
      if (ack.recovered === false || epochChanged) {
        const previous = this.#last;
        this.#last = ack.offset ?? 0;
        out.push({
          kind: "resync",
          reason: "not_recovered",
          offset: this.#last,
          epoch: this.#epoch,
          previousOffset: previous,
        });
      }
    }
    this.#awaitingAck = false;
    // Held before the ack with an epoch other than the ack's: another stream's offsets, not this one's.
    for (const [offset, held] of this.#pending)
      if (held.epoch !== undefined && held.epoch !== this.#epoch) this.#pending.delete(offset);
    this.#dropAtOrBelow(this.#last);
    this.#flush(out);
    return out;
  }

  /** A message frame; `epoch` when the frame carried one (the first message of an epoch after a change). */
  onMessage(offset: number, data: T, epoch?: string): StreamOutput<T>[] {
    const out: StreamOutput<T>[] = [];
    if (this.#awaitingAck) {
      // The ack will say which epoch this subscription is in; hold the message with its mark until then.
      if (
        this.#pending.has(offset) ||
        (this.#last !== undefined && offset <= this.#last && epoch === undefined)
      ) {
        this.#duplicates += 1;
        return out;
      }
      this.#pending.set(offset, { data, epoch });
      return out;
    }
    if (epoch !== undefined && this.#epoch === undefined) this.#epoch = epoch;
    else if (epoch !== undefined && epoch !== this.#epoch) {
      // A new epoch nobody announced: its offsets say nothing about the old one's. Restart just before it.
      const previous = this.#last;
      this.#epoch = epoch;
      this.#last = offset - 1;
      this.#pending.clear();
      out.push({ kind: "resync", reason: "new_epoch", offset: this.#last, epoch, previousOffset: previous });
    }
    if ((this.#last !== undefined && offset <= this.#last) || this.#pending.has(offset)) {
      this.#duplicates += 1;
      return out;
    }
    this.#pending.set(offset, { data, epoch });
    this.#flush(out);
    if (this.#pending.size > this.#maxPending) for (const o of this.skipGap()) out.push(o);
    return out;
  }

  /** The gateway's `resync` frame: the stream continues after `offset` in `epoch`. */
  onResync(offset: number, epoch: string): StreamOutput<T>[] {
    // Within one epoch offsets only grow: a resync at or before what was already handed over is stale (a second
    // announcement of the same change) and loses nothing; taking it would rewind and hand those offsets again.
    if (epoch === this.#epoch && this.#last !== undefined && offset <= this.#last) return [];
    const previous = this.#last;
    this.#last = offset;
    this.#epoch = epoch;
    this.#dropAtOrBelow(offset);
    const out: StreamOutput<T>[] = [
      { kind: "resync", reason: "server_resync", offset, epoch, previousOffset: previous },
    ];
    if (!this.#awaitingAck) this.#flush(out);
    return out;
  }

  /** Give up on the hole before the oldest held message: report it, then deliver what is held. */
  skipGap(): StreamOutput<T>[] {
    if (this.#awaitingAck || this.#pending.size === 0) return [];
    let oldest = Number.POSITIVE_INFINITY;
    for (const offset of this.#pending.keys()) if (offset < oldest) oldest = offset;
    const previous = this.#last;
    this.#last = oldest - 1;
    const out: StreamOutput<T>[] = [
      { kind: "resync", reason: "gap", offset: this.#last, epoch: this.#epoch, previousOffset: previous },
    ];
    this.#flush(out);
    return out;
  }

  #flush(out: StreamOutput<T>[]): void {
    if (this.#last === undefined) return;
    for (;;) {
      const next: number = this.#last + 1;
      if (!this.#pending.has(next)) return;
      const held = this.#pending.get(next) as { data: T };
      this.#pending.delete(next);
      this.#last = next;
      out.push({ kind: "deliver", offset: next, data: held.data });
    }
  }

  #dropAtOrBelow(offset: number): void {
    for (const held of this.#pending.keys()) if (held <= offset) this.#pending.delete(held);
  }
}
