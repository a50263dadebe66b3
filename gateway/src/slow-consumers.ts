// Finds sockets whose send buffer passed its bound, looking only where topic publishes can have added bytes.
//
// uWS topics give no per-socket result, so the buffers are read in sweeps. A socket's buffer grows only through
// (a) direct sends, which check it themselves (Hub.send), and (b) topic frames of channels it is on. So every
// channel keeps the set of its sockets on a topic, a publish marks that set dirty, and a sweep reads the
// buffers of the dirty sets' sockets only (each once), then forgets them: a quiet channel costs nothing.
//
// The bound: a sweep runs each time half the bound has been published in total, and it reads every socket
// that can have received any of it. So between two readings a socket receives less than half the bound plus
// one frame: none passes ~1.5x the bound before it is closed, however many quiet sockets there are. (uWS
// writes frames under 16 KB to the sockets at the end of the event-loop iteration, so a sweep can miss the last
// small frame of each channel; that frame is there for the sweep after the channel's next publish.)

/** What the sweep needs of a socket: uWS's WebSocket<Connection> has it. */
export interface Watched {
  getBufferedAmount(): number;
  getUserData(): SweepStamp;
}

/** Kept on the socket's user data, so a socket on several dirty channels is read once per sweep. */
export interface SweepStamp {
  /** The number of the last sweep that read this socket (0: none). */
  sweep: number;
  /** Closed (or being closed): never read again. */
  closed: boolean;
}

export interface SlowConsumerOptions<S> {
  boundBytes: number;
  /** Called for each socket past the bound; expected to close it. */
  onSlow: (s: S) => void;
}

export class SlowConsumerWatch<S extends Watched> {
  private readonly dirty = new Set<ReadonlySet<S>>();
  private publishedSinceSweep = 0;
  private sweeps = 0;

  constructor(private readonly o: SlowConsumerOptions<S>) {}

  /** `bytes` went out on a topic whose sockets are `members`; sweeps once half the bound went out. */
  published(members: ReadonlySet<S>, bytes: number): void {
    if (members.size > 0) this.dirty.add(members);
    this.publishedSinceSweep += bytes;
    if (this.publishedSinceSweep * 2 >= this.o.boundBytes) this.sweep();
  }

  /** Read the buffers of every socket on a dirty channel; returns how many were read. */
  sweep(): number {
    this.publishedSinceSweep = 0;
    this.sweeps += 1;
    const stamp = this.sweeps;
    // Detach first: closing a socket runs its close handler at once, which may touch the sets.
    const sets = [...this.dirty];
    this.dirty.clear();
    let read = 0;
    for (const members of sets) {
      for (const s of members) {
        const seen = s.getUserData();
        if (seen.sweep === stamp || seen.closed) continue;
        seen.sweep = stamp;
        read += 1;
        if (s.getBufferedAmount() > this.o.boundBytes) this.o.onSlow(s);
      }
    }
    return read;
  }

  /** Read one socket now, e.g. one leaving a channel (later sweeps will not reach it through that channel). */
  check(s: S): void {
    if (!s.getUserData().closed && s.getBufferedAmount() > this.o.boundBytes) this.o.onSlow(s);
  }

  /** Channels published on since the last sweep (for tests). */
  get dirtyChannels(): number {
    return this.dirty.size;
  }
}
