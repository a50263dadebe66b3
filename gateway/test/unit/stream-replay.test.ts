// The hub's side of the sequencing core: where a subscribing socket's stream starts, the merge of history with
// the live messages buffered during the read, and the catch-up until the socket can join the topic.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { BrokerMessage } from "../../src/broker/broker.js";
import { catchUp, livePassed, mergeReplay, replayStart } from "../../src/stream/replay.js";

const m = (offset: number, epoch = "e1"): BrokerMessage => ({
  channel: "c",
  offset,
  epoch,
  data: "1",
  publishedAt: 0,
});
const range = (from: number, to: number, epoch = "e1") =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => m(from + i, epoch));

describe("replayStart", () => {
  const position = { offset: 10, epoch: "e1" };
  const cases: Array<[string, number | undefined, string | undefined, number]> = [
    ["no since: the position", undefined, undefined, 10],
    ["since in this epoch", 4, "e1", 4],
    ["since without an epoch", 4, undefined, 4],
    ["since from another epoch: the position", 4, "e0", 10],
    ["since ahead of the channel: the position", 12, "e1", 10],
  ];
  for (const [name, since, epoch, offset] of cases) {
    it(name, () => assert.deepEqual(replayStart(since, epoch, position), { offset, epoch: "e1" }));
  }
});

describe("mergeReplay", () => {
  it("history, then the buffered live messages past it, each once", () => {
    const merged = mergeReplay({ offset: 3, epoch: "e1" }, range(4, 7), [range(6, 7), range(8, 9)]);
    assert.deepEqual(
      merged.messages.map((x) => x.offset),
      [4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(merged.cursor, { offset: 9, epoch: "e1" });
  });
  it("drops what is at or before the start", () => {
    const merged = mergeReplay({ offset: 5, epoch: "e1" }, [], [range(3, 6)]);
    assert.deepEqual(
      merged.messages.map((x) => x.offset),
      [6],
    );
  });
  it("leaves out another epoch's messages", () => {
    const merged = mergeReplay({ offset: 2, epoch: "e1" }, range(3, 3), [[m(4), m(1, "e2")]]);
    assert.deepEqual(
      merged.messages.map((x) => x.offset),
      [3, 4],
    );
  });
});

describe("catchUp and livePassed", () => {
  it("passes on only what the socket has not had, and joins once the stream reached what was sent", () => {
    const sent = { offset: 7, epoch: "e1" };
    assert.deepEqual(catchUp(sent, range(5, 6)), { fresh: [], caughtUp: false });
    const step = catchUp(sent, range(6, 9));
    assert.deepEqual(
      step.fresh.map((x) => x.offset),
      [8, 9],
    );
    assert.equal(step.caughtUp, true);
    assert.equal(catchUp(sent, range(7, 7)).caughtUp, true);
  });
  it("the live stream passed what was sent only in the same epoch", () => {
    const sent = { offset: 7, epoch: "e1" };
    assert.equal(livePassed(sent, undefined), false);
    assert.equal(livePassed(sent, { offset: 6, epoch: "e1" }), false);
    assert.equal(livePassed(sent, { offset: 7, epoch: "e1" }), true);
    assert.equal(livePassed(sent, { offset: 9, epoch: "e0" }), false);
  });
});

describe("mergeReplay (property)", () => {
  it("history covering (since, h] and gap-free live from any point <= h + 1: every offset after since once, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        (since, historyLength, liveLength, overlap) => {
          const h = since + historyLength;
          const liveFrom = Math.max(1, h + 1 - overlap);
          const merged = mergeReplay({ offset: since, epoch: "e1" }, range(since + 1, h), [
            range(liveFrom, liveFrom + liveLength - 1),
          ]);
          const end = Math.max(h, liveFrom + liveLength - 1);
          assert.deepEqual(
            merged.messages.map((x) => x.offset),
            range(since + 1, end).map((x) => x.offset),
          );
          assert.equal(merged.cursor.offset, end);
        },
      ),
    );
  });
});
