// The model's verdict on one handler, as a table: what a handler saw, and which promises that broke.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkHandler,
  EpochEras,
  type HandlerRecord,
  type PublishRecord,
  type Rule,
} from "../delivery-check.js";
import type { Observation } from "../sdk-observer.js";

const CH = "orders";
/** Messages n=1..10 at E0 offsets 1..10, n=11..15 at E1 offsets 1..5 (the epoch after a failover). */
const published = new Map<number, PublishRecord>();
for (let n = 1; n <= 10; n++) published.set(n, { n, channel: CH, era: 0, offset: n, outcome: "acked" });
for (let n = 11; n <= 15; n++) published.set(n, { n, channel: CH, era: 1, offset: n - 10, outcome: "acked" });
const eras = new EpochEras();
eras.note(CH, "e0", 0);
eras.note(CH, "e1", 1);

const msg = (n: number, offset = published.get(n)?.offset ?? 0, epoch = "e0"): Observation => ({
  kind: "message",
  n,
  offset,
  epoch,
});
const gap = (offset: number, epoch: string): Observation => ({
  kind: "gap",
  offset,
  epoch,
  reason: "server_resync",
});
const fresh = (observations: Observation[], extra: Partial<HandlerRecord> = {}): HandlerRecord => ({
  id: "h",
  channel: CH,
  ready: { offset: 0, epoch: "e0", recovered: undefined, era: 0 },
  observations,
  ...extra,
});

const cases: Array<{ name: string; handler: HandlerRecord; rules: Rule[] }> = [
  { name: "every offset once, in order", handler: fresh([1, 2, 3].map((n) => msg(n))), rules: [] },
  { name: "a duplicate", handler: fresh([msg(1), msg(2), msg(2), msg(3)]), rules: ["duplicate"] },
  {
    name: "a resync rewinding the epoch, the message after it handed again",
    handler: fresh([gap(0, "e1"), msg(11, 1, "e1"), gap(0, "e1"), msg(11, 1, "e1"), msg(12, 2, "e1")]),
    rules: ["duplicate"],
  },
  { name: "out of order", handler: fresh([msg(1), msg(3), msg(2)]), rules: ["silent_gap", "out_of_order"] },
  { name: "an offset skipped silently", handler: fresh([msg(1), msg(2), msg(4)]), rules: ["silent_gap"] },
  {
    name: "issue 13 item 1: E1 offsets spliced onto E0 with no event",
    handler: fresh([6, 7, 8, 9, 10].map((n) => msg(n)).concat([msg(11, 1), msg(12, 2)]), {
      since: 5,
      sinceEpoch: "e0",
      ready: { offset: 10, epoch: "e0", recovered: true, era: 0 },
    }),
    rules: ["unannounced_epoch_change"],
  },
  {
    name: "a new epoch announced first",
    handler: fresh([msg(1), msg(2), gap(0, "e1"), msg(11, 1, "e1"), msg(12, 2, "e1")]),
    rules: [],
  },
  {
    name: "a gap announced at one place, delivery resumed at another",
    handler: fresh([msg(1), gap(0, "e1"), msg(12, 2, "e1")]),
    rules: ["gap_misplaced"],
  },
  {
    name: "a gap skipping offsets, announced",
    handler: fresh([msg(1), gap(4, "e0"), msg(5), msg(6)]),
    rules: [],
  },
  {
    name: "resumed after since",
    handler: fresh([msg(6), msg(7)], { since: 5, sinceEpoch: "e0" }),
    rules: [],
  },
  {
    name: "resumed after since, first offset missing",
    handler: fresh([msg(7)], { since: 5, sinceEpoch: "e0" }),
    rules: ["silent_gap"],
  },
  {
    name: "issue 13 item 2: the SDK ends a ready subscription",
    handler: fresh([msg(1), { kind: "ended", code: "unavailable" }], { marker: 12 }),
    rules: ["ended_by_sdk"],
  },
  { name: "the final marker never came", handler: fresh([msg(1), msg(2)], { marker: 3 }), rules: ["lost"] },
  { name: "the final marker came", handler: fresh([msg(1), msg(2), msg(3)], { marker: 3 }), rules: [] },
  {
    name: "the final marker skipped by an announced gap at or past it",
    handler: fresh([msg(1), gap(3, "e0")], { marker: 3 }),
    rules: [],
  },
  {
    name: "the final marker skipped by a gap announced before it",
    handler: fresh([msg(1), gap(2, "e0")], { marker: 3 }),
    rules: ["lost"],
  },
  { name: "mislabelled offset", handler: fresh([msg(1), msg(2, 3)]), rules: ["mislabelled"] },
  { name: "a message the model never published", handler: fresh([msg(99, 1)]), rules: ["unknown_message"] },
  {
    name: "never ready: no base and no promise to end, but the messages handed are still judged",
    handler: { id: "h", channel: CH, observations: [msg(3), msg(5), { kind: "ended", code: "unavailable" }] },
    rules: ["silent_gap"],
  },
];

describe("checkHandler", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(
        checkHandler(c.handler, published, eras).map((v) => v.rule),
        c.rules,
      );
    });
  }

  it("an epoch string seen in two eras is a conflict", () => {
    const e = new EpochEras();
    assert.equal(e.note(CH, "x", 0), undefined);
    assert.equal(e.note(CH, "x", 0), undefined);
    assert.match(e.note(CH, "x", 1) ?? "", /seen in era 0 and again in era 1/);
  });
});
