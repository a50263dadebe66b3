import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { HistoryResult } from "../../src/broker/broker.js";
import { applyLive, historyComplete, judge, mergeRecovery } from "../../src/stream/sequence.js";
import { message as m } from "./stream-support.js";

const offsets = (emit: ReturnType<typeof applyLive>["emit"]) =>
  emit.map((e) => ("message" in e ? e.message.offset : `resync@${e.resync.offset}/${e.resync.epoch}`));

describe("judge", () => {
  const cases: Array<[string, number, string, number, string, ReturnType<typeof judge>]> = [
    ["next offset", 5, "e1", 6, "e1", "deliver"],
    ["same offset", 5, "e1", 5, "e1", "duplicate"],
    ["older offset", 5, "e1", 2, "e1", "duplicate"],
    ["skips one", 5, "e1", 7, "e1", "gap"],
    ["other epoch, low offset", 5, "e1", 1, "e2", "new-epoch"],
    ["other epoch, next offset", 5, "e1", 6, "e2", "new-epoch"],
  ];
  for (const [name, offset, epoch, next, nextEpoch, verdict] of cases) {
    it(name, () => assert.equal(judge({ offset, epoch }, m(next, nextEpoch)), verdict));
  }
});

describe("applyLive", () => {
  it("delivers in order and drops duplicates", () => {
    const step = applyLive({ offset: 2, epoch: "e1" }, [m(1), m(3), m(3), m(4)]);
    assert.deepEqual(offsets(step.emit), [3, 4]);
    assert.deepEqual(step.cursor, { offset: 4, epoch: "e1" });
    assert.equal(step.rest.length, 0);
  });
  it("stops at a gap and returns the rest", () => {
    const step = applyLive({ offset: 2, epoch: "e1" }, [m(3), m(5), m(6)]);
    assert.deepEqual(offsets(step.emit), [3]);
    assert.deepEqual(
      step.rest.map((x) => x.offset),
      [5, 6],
    );
  });
  it("turns a new epoch into a resync before the message", () => {
    const step = applyLive({ offset: 9, epoch: "e1" }, [m(10), m(1, "e2"), m(2, "e2")]);
    assert.deepEqual(offsets(step.emit), [10, "resync@0/e2", 1, 2]);
    assert.deepEqual(step.cursor, { offset: 2, epoch: "e2" });
  });
});

describe("mergeRecovery", () => {
  const history = (offset: number, epoch: string, from: number, complete: boolean): HistoryResult => ({
    offset,
    epoch,
    complete,
    messages: Array.from({ length: Math.max(0, offset - from + 1) }, (_, i) => m(from + i, epoch)),
  });
  it("fills the hole from history, then the held live messages, without duplicates", () => {
    const step = mergeRecovery({ offset: 3, epoch: "e1" }, history(7, "e1", 4, true), [
      m(6),
      m(7),
      m(8),
      m(9),
    ]);
    assert.deepEqual(offsets(step.emit), [4, 5, 6, 7, 8, 9]);
    assert.deepEqual(step.cursor, { offset: 9, epoch: "e1" });
  });
  it("resyncs when history does not reach back", () => {
    const step = mergeRecovery({ offset: 3, epoch: "e1" }, history(20, "e1", 11, false), [m(20), m(21)]);
    assert.deepEqual(offsets(step.emit), ["resync@20/e1", 21]);
  });
  it("resyncs when the epoch changed (Redis restarted empty)", () => {
    const step = mergeRecovery({ offset: 50, epoch: "e1" }, history(0, "e2", 1, true), [m(1, "e2")]);
    assert.deepEqual(offsets(step.emit), ["resync@0/e2", 1]);
    assert.deepEqual(step.cursor, { offset: 1, epoch: "e2" });
  });
  it("a new subscription starts at the position and drops held messages at or before it", () => {
    const step = mergeRecovery({ offset: 5, epoch: "e1" }, history(5, "e1", 6, true), [m(4), m(5), m(6)]);
    assert.deepEqual(offsets(step.emit), [6]);
  });
  it("merges 200,000 held messages (no argument-list limit on the way)", () => {
    const held = Array.from({ length: 200_000 }, (_, i) => m(5 + i));
    const step = mergeRecovery({ offset: 3, epoch: "e1" }, history(4, "e1", 4, true), held);
    assert.equal(step.emit.length, 200_001);
    assert.deepEqual(step.cursor, { offset: 200_004, epoch: "e1" });
    const gappy = mergeRecovery({ offset: 3, epoch: "e1" }, history(4, "e1", 4, true), [
      m(6),
      ...held.slice(2),
    ]);
    assert.deepEqual(gappy.cursor, { offset: 200_004, epoch: "e1" });
  });
  it("a hole inside the held messages becomes a resync, not a silent skip", () => {
    const step = mergeRecovery({ offset: 3, epoch: "e1" }, history(4, "e1", 4, true), [m(5), m(8)]);
    assert.deepEqual(offsets(step.emit), [4, 5, "resync@7/e1", 8]);
  });
});

describe("historyComplete", () => {
  const pos = { offset: 10, epoch: "e1" };
  const from = (first: number | undefined, last = 10) =>
    first === undefined ? [] : Array.from({ length: last - first + 1 }, (_, i) => ({ offset: first + i }));
  const cases: Array<[string, number, string | undefined, { offset: number }[], boolean]> = [
    ["reaches back to since+1", 4, "e1", from(5), true],
    ["starts later than since+1", 4, "e1", from(6), false],
    ["nothing missed", 10, "e1", from(undefined), true],
    ["client ahead of the channel", 12, "e1", from(undefined), false],
    ["epoch differs", 4, "e0", from(5), false],
    ["no epoch given", 4, undefined, from(5), true],
    ["since 0 with another epoch is fine when history starts at 1", 0, "e0", from(1), true],
    ["empty history but messages were published", 4, "e1", from(undefined), false],
    ["cut short of the position (a reader's smaller size)", 4, "e1", from(5, 8), false],
  ];
  for (const [name, since, epoch, messages, expected] of cases) {
    it(name, () => assert.equal(historyComplete(since, epoch, pos, messages), expected));
  }
});

describe("mergeRecovery (property)", () => {
  it("complete history + held live messages = every offset after the cursor, once, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        (cursor, historyLength, liveLength, overlap) => {
          // History was read after the subscription went live: it covers (cursor, h]; live messages start at or
          // before h + 1 (some may repeat history) and run on without holes.
          const h = cursor + historyLength;
          const liveFrom = Math.max(1, h + 1 - Math.min(overlap, h));
          const held = Array.from({ length: liveLength }, (_, i) => m(liveFrom + i));
          const history: HistoryResult = {
            offset: h,
            epoch: "e1",
            complete: true,
            messages: Array.from({ length: historyLength }, (_, i) => m(cursor + 1 + i)),
          };
          const step = mergeRecovery({ offset: cursor, epoch: "e1" }, history, held);
          const end = Math.max(h, liveFrom + liveLength - 1);
          assert.deepEqual(
            offsets(step.emit),
            Array.from({ length: end - cursor }, (_, i) => cursor + 1 + i),
          );
          assert.equal(step.cursor.offset, end);
        },
      ),
    );
  });
});
