import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SlowConsumerWatch, type SweepStamp, type Watched } from "../../src/slow-consumers.js";

/** A socket as the sweep sees it: a send buffer we set, and the stamp it keeps on its user data. */
class FakeSocket implements Watched {
  readonly data: SweepStamp = { sweep: 0, closed: false };
  reads = 0;
  constructor(public buffered = 0) {}
  getBufferedAmount(): number {
    assert.equal(this.data.closed, false, "a closed socket must not be read (uWS throws)");
    this.reads += 1;
    return this.buffered;
  }
  getUserData(): SweepStamp {
    return this.data;
  }
}

const BOUND = 1000;

/** A watch whose onSlow closes the socket, keeps it in `slow`, then does `alsoOnSlow` (a close handler's work). */
function setup(alsoOnSlow: (s: FakeSocket) => void = () => {}) {
  const slow: FakeSocket[] = [];
  const watch = new SlowConsumerWatch<FakeSocket>({
    boundBytes: BOUND,
    onSlow: (s) => {
      s.data.closed = true;
      slow.push(s);
      alsoOnSlow(s);
    },
  });
  return { watch, slow };
}

describe("slow-consumer watch", () => {
  it("sweeps once half the bound has been published in total, not before", () => {
    const { watch } = setup();
    const s = new FakeSocket();
    const channel = new Set([s]);
    watch.published(channel, 499);
    assert.equal(s.reads, 0);
    watch.published(new Set<FakeSocket>(), 1); // bytes on any channel count towards the next sweep
    assert.equal(s.reads, 1);
    assert.equal(watch.dirtyChannels, 0);
  });

  it("reads only the sockets of channels published on since the last sweep", () => {
    const { watch, slow } = setup();
    const quiet = Array.from({ length: 50 }, () => new FakeSocket(10));
    const quietChannels = Array.from({ length: 10 }, (_, i) => new Set(quiet.slice(i * 5, i * 5 + 5)));
    for (const channel of quietChannels) watch.published(channel, 1); // one small message each
    watch.sweep();
    assert.ok(quiet.every((s) => s.reads === 1));
    const busyReader = new FakeSocket(200);
    const stuck = new FakeSocket(BOUND + 1);
    watch.published(new Set([busyReader, stuck]), BOUND);
    assert.deepEqual(slow, [stuck]);
    assert.equal(busyReader.reads, 1);
    assert.ok(
      quiet.every((s) => s.reads === 1),
      "nothing was published on the quiet channels since: their sockets are not read again",
    );
  });

  it("reads a socket on several dirty channels once per sweep", () => {
    const { watch } = setup();
    const shared = new FakeSocket();
    const a = new Set([shared, new FakeSocket()]);
    const b = new Set([shared]);
    const c = new Set([new FakeSocket(), shared]);
    watch.published(a, 100);
    watch.published(b, 100);
    watch.published(c, 300);
    assert.equal(shared.reads, 1);
    watch.published(b, 500);
    assert.equal(shared.reads, 2, "a later sweep reads it again");
  });

  it("forgets the dirty channels after a sweep", () => {
    const { watch } = setup();
    const s = new FakeSocket();
    const quietAfter = new Set([s]);
    watch.published(quietAfter, 10);
    watch.sweep();
    assert.equal(s.reads, 1);
    watch.published(new Set([new FakeSocket()]), 600);
    assert.equal(s.reads, 1, "nothing published on its channel since: not read");
  });

  it("a socket closed during the sweep (its close handler leaves every channel) is not read again", () => {
    const sets: Set<FakeSocket>[] = [];
    // What Hub.closed does, synchronously inside ws.end(): the socket leaves every channel.
    const { watch, slow } = setup((s) => {
      for (const set of sets) set.delete(s);
    });
    const stuck = new FakeSocket(BOUND * 2);
    const fine = new FakeSocket(0);
    sets.push(new Set([stuck, fine]), new Set([fine, stuck]), new Set([stuck]));
    for (const set of sets) watch.published(set, 100);
    watch.sweep();
    assert.deepEqual(slow, [stuck]);
    assert.equal(stuck.reads, 1);
    assert.equal(fine.reads, 1);
  });

  it("skips sockets already closed; check() reads one socket now", () => {
    const { watch, slow } = setup();
    const closed = new FakeSocket(BOUND * 2);
    closed.data.closed = true;
    watch.published(new Set([closed]), BOUND);
    watch.check(closed);
    assert.equal(closed.reads, 0);
    const leaving = new FakeSocket(BOUND + 1);
    watch.check(leaving);
    assert.deepEqual(slow, [leaving]);
  });

  it("property: a socket past the bound is closed within half the bound (plus a frame) of publishing", () => {
    const CHANNELS = 8;
    const SOCKETS = 8;
    const MAX_FRAME = 300;
    // Mostly publishes (so buffers grow), some reads (a client catching up a little), joins and leaves.
    const step = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          kind: fc.constant("publish" as const),
          channel: fc.nat(CHANNELS - 1),
          bytes: fc.integer({ min: 1, max: MAX_FRAME }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("read" as const),
          socket: fc.nat(SOCKETS - 1),
          bytes: fc.integer({ min: 1, max: BOUND / 4 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("join" as const),
          socket: fc.nat(SOCKETS - 1),
          channel: fc.nat(CHANNELS - 1),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("leave" as const),
          socket: fc.nat(SOCKETS - 1),
          channel: fc.nat(CHANNELS - 1),
        }),
      },
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 50, maxLength: 400, size: "max" }), (steps) => {
        const sockets = Array.from({ length: SOCKETS }, () => new FakeSocket());
        // Socket i starts on channel i.
        const channels = sockets.map((s) => new Set([s]));
        const watch = new SlowConsumerWatch<FakeSocket>({
          boundBytes: BOUND,
          onSlow: (s) => {
            s.data.closed = true;
            for (const set of channels) set.delete(s); // Hub.closed, inside ws.end()
          },
        });
        let published = 0;
        /** Bytes published in total when each socket went past the bound (undefined: not past it). */
        const pastSince = new Map<FakeSocket, number>();
        for (const st of steps) {
          const s = st.kind === "publish" ? undefined : (sockets[st.socket] as FakeSocket);
          if (s?.data.closed) continue;
          if (st.kind === "publish") {
            const members = channels[st.channel] as Set<FakeSocket>;
            published += st.bytes;
            for (const m of members) {
              m.buffered += st.bytes; // uWS writes the frame to every subscriber
              if (m.buffered > BOUND && !pastSince.has(m)) pastSince.set(m, published);
            }
            watch.published(members, st.bytes);
          } else if (st.kind === "read" && s) {
            s.buffered = Math.max(0, s.buffered - st.bytes);
            if (s.buffered <= BOUND) pastSince.delete(s);
          } else if (st.kind === "join" && s) {
            channels[st.channel]?.add(s);
          } else if (st.kind === "leave" && s && channels[st.channel]?.delete(s)) {
            watch.check(s);
          }
          for (const x of sockets) {
            if (x.data.closed) continue;
            const since = pastSince.get(x);
            if (since !== undefined)
              assert.ok(
                published - since < BOUND / 2 + MAX_FRAME,
                `past the bound for ${published - since} B`,
              );
            assert.ok(x.buffered <= BOUND * 1.5 + MAX_FRAME, `buffer ${x.buffered}`);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
