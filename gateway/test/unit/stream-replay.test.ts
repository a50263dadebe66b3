// The hub's side of the sequencing core: where a subscribing socket's stream starts, and how it follows the history
// read, live batches and resyncs (buffered during the read, or after it) without ever splicing two epochs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  follow,
  type LiveItem,
  livePassed,
  mergeReplay,
  type Output,
  replayStart,
} from "../../src/stream/replay.js";
import { message as m } from "./stream-support.js";

const range = (from: number, to: number, epoch = "e1") =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => m(from + i, epoch));
const resync = (offset: number, epoch: string): LiveItem => ({ resync: { offset, epoch } });
/** Outputs as "e:o" messages and "resync e@o". */
const story = (out: readonly Output[]) =>
  out.flatMap((o) =>
    "resync" in o
      ? [`resync ${o.resync.epoch}@${o.resync.offset}`]
      : o.messages.map((x) => `${x.epoch}:${x.offset}`),
  );

describe("replayStart", () => {
  const position = { offset: 10, epoch: "e1" };
  const cases: Array<[string, number | undefined, string | undefined, boolean, number]> = [
    ["no since: the position", undefined, undefined, false, 10],
    ["since in this epoch", 4, "e1", true, 4],
    ["since without an epoch", 4, undefined, true, 4],
    ["since from another epoch: the position", 4, "e0", false, 10],
    ["since ahead of the channel: the position", 12, "e1", false, 10],
    ["history no longer reaches back: what is left is replayed", 2, "e1", false, 2],
    ["since 0 of another epoch, history complete from 1: replayed", 0, "e0", true, 0],
  ];
  for (const [name, since, epoch, complete, offset] of cases) {
    it(name, () => assert.deepEqual(replayStart(since, epoch, complete, position), { offset, epoch: "e1" }));
  }
});

describe("follow and mergeReplay", () => {
  const cases: Array<[string, number, string, LiveItem[], string[], string]> = [
    [
      "history, then the buffered live messages past it, each once",
      3,
      "e1",
      [range(4, 7), range(6, 9)],
      ["e1:4", "e1:5", "e1:6", "e1:7", "e1:8", "e1:9"],
      "e1@9",
    ],
    ["drops what is at or before the start", 5, "e1", [range(3, 6)], ["e1:6"], "e1@6"],
    [
      "an epoch change while subscribing: a resync, then the new epoch, never spliced",
      4,
      "e1",
      [range(5, 6), resync(0, "e2"), range(1, 2, "e2")],
      ["e1:5", "e1:6", "resync e2@0", "e2:1", "e2:2"],
      "e2@2",
    ],
    [
      "the position read after the change: the old epoch's stragglers and the covered resync are skipped",
      1,
      "e2",
      [range(5, 6), resync(0, "e2"), range(1, 3, "e2")],
      ["e2:2", "e2:3"],
      "e2@3",
    ],
    [
      "another epoch's messages with no resync before them are not this stream's",
      2,
      "e1",
      [[m(3), m(1, "e2")]],
      ["e1:3"],
      "e1@3",
    ],
    [
      "a hole the broker could not fill: resync past the cursor",
      2,
      "e1",
      [range(3, 3), resync(9, "e1"), range(10, 10)],
      ["e1:3", "resync e1@9", "e1:10"],
      "e1@10",
    ],
    [
      "a resync the cursor already passed is old news",
      12,
      "e1",
      [resync(9, "e1"), range(10, 13)],
      ["e1:13"],
      "e1@13",
    ],
  ];
  for (const [name, offset, epoch, items, expected, end] of cases) {
    it(name, () => {
      const step = follow({ offset, epoch }, items);
      assert.deepEqual(story(step.out), expected);
      assert.equal(`${step.cursor.epoch}@${step.cursor.offset}`, end);
    });
  }
  it("mergeReplay is history first, then the buffer", () => {
    const step = mergeReplay({ offset: 3, epoch: "e1" }, range(4, 5), [range(5, 6), resync(0, "e2")]);
    assert.deepEqual(story(step.out), ["e1:4", "e1:5", "e1:6", "resync e2@0"]);
  });
  it("a batch of 200,000 is followed without spreading it", () => {
    const step = follow({ offset: 0, epoch: "e1" }, [range(1, 200_000)]);
    assert.deepEqual(step.cursor, { offset: 200_000, epoch: "e1" });
  });
});

describe("livePassed", () => {
  it("the live stream passed what was sent only in the same epoch", () => {
    const sent = { offset: 7, epoch: "e1" };
    assert.equal(livePassed(sent, undefined), false);
    assert.equal(livePassed(sent, { offset: 6, epoch: "e1" }), false);
    assert.equal(livePassed(sent, { offset: 7, epoch: "e1" }), true);
    assert.equal(livePassed(sent, { offset: 9, epoch: "e0" }), false);
  });
  it("nothing live yet: only a cursor at offset 0 (an empty channel) has nothing left to wait for", () => {
    assert.equal(livePassed({ offset: 0, epoch: "e1" }, undefined), true);
    assert.equal(livePassed({ offset: 1, epoch: "e1" }, undefined), false);
  });
});

describe("follow (property)", () => {
  it("any split of a broker stream with epoch changes: each epoch's offsets once, in order, each change announced first", () => {
    // The broker's output for a channel: epochs one after another, each announced by a resync, offsets from 1.
    const streamOf = (lengths: number[]): LiveItem[] => {
      const items: LiveItem[] = [];
      lengths.forEach((length, e) => {
        if (e > 0) items.push(resync(0, `e${e}`));
        items.push(range(1, length, `e${e}`));
      });
      return items;
    };
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 1, max: 5 }),
        (lengths, startSeed, chunk) => {
          const items = streamOf(lengths);
          // Start anywhere in epoch 0 (the position); re-split batches into chunks (live batching varies).
          const start = startSeed % ((lengths[0] as number) + 1);
          const split: LiveItem[] = items.flatMap((item) => {
            if ("resync" in item) return [item];
            const parts: LiveItem[] = [];
            for (let i = 0; i < item.length; i += chunk) parts.push(item.slice(i, i + chunk));
            return parts;
          });
          const step = follow({ offset: start, epoch: "e0" }, split);
          const want: string[] = [];
          lengths.forEach((length, e) => {
            if (e > 0) want.push(`resync e${e}@0`);
            for (let o = e === 0 ? start + 1 : 1; o <= length; o++) want.push(`e${e}:${o}`);
          });
          assert.deepEqual(story(step.out), want);
        },
      ),
    );
  });
});
