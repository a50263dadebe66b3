import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type AckPosition, ChannelStream, type StreamOutput } from "../../src/channel-stream.js";

type Step =
  | { ack: AckPosition }
  | { msg: number; epoch?: string }
  | { resync: { offset: number; epoch: string } }
  | { skipGap: true }
  | { resubscribe: true };

/** Run steps; render outputs as "d5" (delivered offset 5; "d5:m5old" when it was a marked message's data) or "R:reason@offset". */
function run(steps: Step[], options: ConstructorParameters<typeof ChannelStream<string>>[0] = {}): string[] {
  const stream = new ChannelStream<string>(options);
  const out: StreamOutput<string>[] = [];
  for (const step of steps) {
    if ("ack" in step) out.push(...stream.onAck(step.ack));
    else if ("msg" in step)
      out.push(...stream.onMessage(step.msg, `m${step.msg}${step.epoch ?? ""}`, step.epoch));
    else if ("resync" in step) out.push(...stream.onResync(step.resync.offset, step.resync.epoch));
    else if ("skipGap" in step) out.push(...stream.skipGap());
    else stream.resubscribing();
  }
  return out.map((o) => {
    if (o.kind === "deliver") {
      assert.ok(o.data.startsWith(`m${o.offset}`));
      return o.data === `m${o.offset}` ? `d${o.offset}` : `d${o.offset}:${o.data}`;
    }
    return `R:${o.reason}@${o.offset}`;
  });
}

const m = (...offsets: number[]): Step[] => offsets.map((msg) => ({ msg }));

describe("ChannelStream: ordering and dedup", () => {
  const table: Array<{
    name: string;
    steps: Step[];
    options?: { since?: number; epoch?: string };
    out: string[];
  }> = [
    {
      name: "fresh subscribe: holds messages until the ack, drops what precedes the ack's offset",
      steps: [...m(4, 6, 5, 7), { ack: { offset: 5, epoch: "e" } }, ...m(8)],
      out: ["d6", "d7", "d8"],
    },
    { name: "in order", steps: [{ ack: { offset: 0 } }, ...m(1, 2, 3)], out: ["d1", "d2", "d3"] },
    {
      // Seen by the delivery model after a Redis restart: the change announced twice, the second after E1:1.
      name: "a repeated resync of the current epoch behind what was delivered is stale: nothing handed twice",
      steps: [
        { ack: { offset: 0, epoch: "e0" } },
        { resync: { offset: 0, epoch: "e1" } },
        { msg: 1, epoch: "e1" },
        { resync: { offset: 0, epoch: "e1" } },
        { msg: 1, epoch: "e1" },
        ...m(2),
      ],
      out: ["R:server_resync@0", "d1:m1e1", "d2"],
    },
    {
      name: "a resync of the current epoch ahead of what was delivered is a gap, announced",
      steps: [{ ack: { offset: 0, epoch: "e" } }, ...m(1), { resync: { offset: 5, epoch: "e" } }, ...m(6)],
      out: ["d1", "R:server_resync@5", "d6"],
    },
    {
      name: "duplicates are dropped",
      steps: [{ ack: { offset: 0 } }, ...m(1, 1, 2, 1, 2, 3, 3)],
      out: ["d1", "d2", "d3"],
    },
    {
      name: "out of order is buffered and released in order",
      steps: [{ ack: { offset: 0 } }, ...m(3, 1, 4, 2, 5)],
      out: ["d1", "d2", "d3", "d4", "d5"],
    },
    {
      name: "a duplicate of a buffered message is dropped too",
      steps: [{ ack: { offset: 0 } }, ...m(3, 3, 2, 1)],
      out: ["d1", "d2", "d3"],
    },
    {
      name: "resume: replay before the ack is merged with it",
      options: { since: 10, epoch: "e" },
      steps: [...m(12, 11, 13), { ack: { offset: 13, epoch: "e", recovered: true } }, ...m(12, 14)],
      out: ["d11", "d12", "d13", "d14"],
    },
    {
      name: "resume: replay after the ack, live racing ahead of it",
      options: { since: 10, epoch: "e" },
      steps: [{ ack: { offset: 13, epoch: "e", recovered: true } }, ...m(14, 11, 12, 13, 15)],
      out: ["d11", "d12", "d13", "d14", "d15"],
    },
    {
      name: "resume not recovered: reported, then continues after the ack's offset",
      options: { since: 10, epoch: "e" },
      steps: [...m(49, 51), { ack: { offset: 50, epoch: "e", recovered: false } }, ...m(30, 52)],
      out: ["R:not_recovered@50", "d51", "d52"],
    },
    {
      name: "resume into a new epoch whose offsets restarted lower",
      options: { since: 900, epoch: "old" },
      steps: [{ ack: { offset: 2, epoch: "new", recovered: false } }, ...m(3, 4)],
      out: ["R:not_recovered@2", "d3", "d4"],
    },
    {
      name: "an epoch change counts as not recovered even if the ack omits recovered",
      options: { since: 7, epoch: "old" },
      steps: [{ ack: { offset: 3, epoch: "new" } }, ...m(4)],
      out: ["R:not_recovered@3", "d4"],
    },
    {
      name: "a resync frame moves the stream forward and releases what was held after it",
      steps: [
        { ack: { offset: 0, epoch: "a" } },
        ...m(1, 2, 11),
        { resync: { offset: 10, epoch: "b" } },
        ...m(5, 12),
      ],
      out: ["d1", "d2", "R:server_resync@10", "d11", "d12"],
    },
    {
      name: "a message marked with a new epoch, no resync before it: reported, never spliced onto the old stream",
      steps: [{ ack: { offset: 0, epoch: "a" } }, ...m(1, 2, 3, 4, 5), { msg: 3, epoch: "b" }, ...m(4)],
      out: ["d1", "d2", "d3", "d4", "d5", "R:new_epoch@2", "d3:m3b", "d4"],
    },
    {
      name: "after a resync, the new epoch's marked first message is simply the next",
      steps: [
        { ack: { offset: 0, epoch: "a" } },
        ...m(1),
        { resync: { offset: 0, epoch: "b" } },
        { msg: 1, epoch: "b" },
        ...m(2),
      ],
      out: ["d1", "R:server_resync@0", "d1:m1b", "d2"],
    },
    {
      name: "held before the ack with another epoch's mark: not this subscription's, dropped",
      steps: [{ msg: 7, epoch: "old" }, { ack: { offset: 5, epoch: "new" } }, ...m(6, 7)],
      out: ["d6", "d7"],
    },
    {
      name: "a gap is held, then reported and skipped when the shell gives up on it",
      steps: [{ ack: { offset: 0 } }, ...m(1, 4, 5), { skipGap: true }, ...m(2, 3, 6)],
      out: ["d1", "R:gap@3", "d4", "d5", "d6"],
    },
    {
      name: "skipGap with nothing held does nothing",
      steps: [{ ack: { offset: 0 } }, ...m(1), { skipGap: true }],
      out: ["d1"],
    },
    {
      name: "reconnect: resubscribe drops what was held; the replay brings it again, once",
      steps: [
        { ack: { offset: 0, epoch: "e" } },
        ...m(1, 2, 4),
        { resubscribe: true },
        ...m(5),
        { ack: { offset: 5, epoch: "e", recovered: true } },
        ...m(3, 4, 5, 6),
      ],
      out: ["d1", "d2", "d3", "d4", "d5", "d6"],
    },
  ];
  for (const row of table) {
    it(row.name, () => assert.deepEqual(run(row.steps, row.options), row.out));
  }

  it("resumePoint carries the last offset and epoch for the next subscribe", () => {
    const stream = new ChannelStream<string>();
    assert.deepEqual(stream.resumePoint(), {});
    stream.onAck({ offset: 4, epoch: "e1" });
    stream.onMessage(5, "m5");
    assert.deepEqual(stream.resumePoint(), { since: 5, epoch: "e1" });
  });

  it("reports a gap as soon as more than maxPending messages pile up behind it", () => {
    const steps: Step[] = [{ ack: { offset: 0 } }, ...m(1, 3, 4, 5)];
    assert.deepEqual(run(steps, { maxPending: 2 } as never), ["d1", "R:gap@2", "d3", "d4", "d5"]);
  });

  it("hasGap is true only while live messages wait behind a hole", () => {
    const stream = new ChannelStream<string>();
    stream.onMessage(3, "m3");
    assert.equal(stream.hasGap, false, "before the ack, holding is normal");
    stream.onAck({ offset: 1 });
    assert.equal(stream.hasGap, true);
    stream.onMessage(2, "m2");
    assert.equal(stream.hasGap, false);
    assert.equal(stream.duplicatesDropped, 0);
    stream.onMessage(2, "m2");
    assert.equal(stream.duplicatesDropped, 1);
  });

  it("epochs one after another (first message marked, resync frame or not, duplicates): never spliced", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ length: fc.integer({ min: 1, max: 6 }), announced: fc.boolean() }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (epochs, dupPicks) => {
          const stream = new ChannelStream<string>();
          const out: StreamOutput<string>[] = [...stream.onAck({ offset: 0, epoch: "e0" })];
          let sent = 0;
          epochs.forEach(({ length, announced }, k) => {
            const epoch = `e${k}`;
            if (k > 0 && announced) out.push(...stream.onResync(0, epoch));
            for (let o = 1; o <= length; o++) {
              // The gateway marks the first message of an epoch after a change; the rest travel unmarked.
              out.push(...stream.onMessage(o, `${epoch}:${o}`, k > 0 && o === 1 ? epoch : undefined));
              if (dupPicks[sent++ % Math.max(1, dupPicks.length)] === 0)
                out.push(...stream.onMessage(o, "dup"));
            }
          });
          // Replay the outputs: every delivery belongs to the epoch last announced (ack, resync event), in order.
          let epoch = "e0";
          let last = 0;
          const delivered: string[] = [];
          for (const o of out) {
            if (o.kind === "resync") {
              epoch = o.epoch as string;
              last = o.offset;
              continue;
            }
            assert.equal(o.data, `${epoch}:${o.offset}`, "a message handed over under another epoch");
            assert.ok(o.offset > last);
            last = o.offset;
            delivered.push(o.data);
          }
          const want = epochs.flatMap(({ length }, k) => Array.from({ length }, (_, i) => `e${k}:${i + 1}`));
          assert.deepEqual(delivered, want);
        },
      ),
      { numRuns: 300, seed: 2 },
    );
  });

  it("any arrival order with duplicates yields each offset once, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer({ min: 0, max: 200 }),
        fc.nat(),
        (count, base, dupPicks, ackAt, seed) => {
          // Offsets base+1..base+count, shuffled, with some duplicated; the ack lands anywhere in between.
          const offsets = Array.from({ length: count }, (_, i) => base + 1 + i);
          for (const pick of dupPicks) offsets.push(base + 1 + (pick % count));
          let s = seed;
          for (let i = offsets.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) % 2147483648;
            const j = s % (i + 1);
            [offsets[i], offsets[j]] = [offsets[j]!, offsets[i]!];
          }
          const steps: Step[] = offsets.map((msg) => ({ msg }));
          steps.splice(Math.min(ackAt, steps.length), 0, { ack: { offset: base } });
          const expected = Array.from({ length: count }, (_, i) => `d${base + 1 + i}`);
          assert.deepEqual(run(steps), expected);
        },
      ),
      { numRuns: 300, seed: 1 },
    );
  });
});
