// The load worker's scan of its own message frames: the same channel, offset and send time as JSON.parse gives, and
// null (the full decode) for anything else.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeMessage, encodeMessageBatch } from "../../../protocol/index.js";
import { scanMessages } from "../../src/load/message-scan.js";

const data = (ts: number, seq: number) => `{"ts":${ts},"seq":${seq}}`;
const m1 = encodeMessage("load:3", 17, data(1764633291234.5679, 5));
const m2 = encodeMessage("load:3", 18, data(1764633291240, 6), "e-7");

describe("scanMessages", () => {
  it("a single message frame", () =>
    assert.deepEqual(scanMessages(m1), [{ channel: "load:3", offset: 17, sentAt: 1764633291234.5679 }]));
  it("a batch, an epoch mark in it", () =>
    assert.deepEqual(scanMessages(encodeMessageBatch([m1, m2])), [
      { channel: "load:3", offset: 17, sentAt: 1764633291234.5679 },
      { channel: "load:3", offset: 18, sentAt: 1764633291240 },
    ]));
  it("agrees with JSON.parse on every field it reads", () => {
    const frame = JSON.parse(m1) as { channel: string; offset: number; data: { ts: number } };
    assert.deepEqual(scanMessages(m1), [
      { channel: frame.channel, offset: frame.offset, sentAt: frame.data.ts },
    ]);
  });
  const others: Array<[string, string]> = [
    ["a welcome", '{"type":"welcome","connectionId":"c1"}'],
    ["an ack", '{"type":"ack","id":1,"offset":3}'],
    ["other data", encodeMessage("load:3", 17, '{"hello":1}')],
    ["an escaped channel", encodeMessage('lo"ad', 17, data(1, 1))],
    ["trailing bytes", `${m1} `],
    ["a batch with a non-message", `[${m1},{"type":"ack","id":1}]`],
    ["an unclosed batch", `[${m1},${m2}`],
    ["an offset past 2^53", encodeMessage("load:3", 2 ** 60, data(1, 1))],
  ];
  for (const [name, text] of others)
    it(`${name}: null (the full decode)`, () => assert.equal(scanMessages(text), null));
});
