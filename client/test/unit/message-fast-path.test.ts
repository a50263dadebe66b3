// The SDK's message fast path must never accept what the schema would not, nor return anything but what the
// schema would: a property over JSON values shaped like frames, plus the frames the gateway actually sends.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as z from "zod/mini";
import {
  decodeServerFrames,
  encodeMessage,
  encodeMessageBatch,
  messageFrame,
  serverPayload,
} from "../../../protocol/index.js";
import { fastMessage, fastMessages } from "../../../protocol/message-fast-path.js";

const near = <T>(...values: T[]) => fc.constantFrom(...values);
const frameLike = fc.record(
  {
    type: fc.oneof(near("message", "ack", "resync", "Message"), fc.string()),
    channel: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    offset: fc.oneof(
      fc.nat(),
      fc.integer(),
      fc.double(),
      near(-0, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 1e300),
      fc.string(),
    ),
    data: fc.jsonValue(),
    epoch: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean()),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
/** As the SDK sees it: what JSON.parse makes of the frame's text. */
const parsedFrame = frameLike.map((f) => JSON.parse(JSON.stringify(f)) as unknown);

describe("message fast path", () => {
  it("accepts only what messageFrame accepts, and returns exactly what it returns", () => {
    fc.assert(
      fc.property(parsedFrame, (value) => {
        const fast = fastMessage(value);
        if (fast === undefined) return;
        const schema = z.safeParse(messageFrame, value);
        assert.ok(schema.success, `fast path accepted what the schema refuses: ${JSON.stringify(value)}`);
        assert.deepEqual(fast, schema.data);
      }),
      { numRuns: 5_000 },
    );
  });

  it("a frame or a batch: accepts only what serverPayload accepts, and returns its frames", () => {
    const payload = fc.oneof(parsedFrame, fc.array(parsedFrame, { maxLength: 4 }), fc.jsonValue());
    fc.assert(
      fc.property(payload, (value) => {
        const fast = fastMessages(value);
        if (fast === undefined) return;
        const schema = z.safeParse(serverPayload, value);
        assert.ok(schema.success, `fast path accepted what the schema refuses: ${JSON.stringify(value)}`);
        assert.deepEqual(fast, Array.isArray(schema.data) ? schema.data : [schema.data]);
      }),
      { numRuns: 3_000 },
    );
  });

  it("takes the gateway's own message frames and batches (so the fast path is the path)", () => {
    const one = encodeMessage("chat:42", 17, '{"text":"hi","n":[1,2]}');
    const marked = encodeMessage("chat:42", 1, "null", "e2");
    assert.deepEqual(fastMessage(JSON.parse(one)), {
      type: "message",
      channel: "chat:42",
      offset: 17,
      data: { text: "hi", n: [1, 2] },
    });
    assert.equal(fastMessage(JSON.parse(marked))?.epoch, "e2");
    assert.equal(fastMessages(JSON.parse(encodeMessageBatch([one, marked])))?.length, 2);
    assert.deepEqual(
      decodeServerFrames(encodeMessageBatch([one, marked])),
      fastMessages(JSON.parse(`[${one},${marked}]`)),
    );
  });

  it("leaves every other frame, and any bad one, to the schema", () => {
    for (const text of [
      '{"type":"ack","id":1,"offset":3}',
      '{"type":"message","channel":"c","offset":-1,"data":1}',
      '{"type":"message","channel":"c","offset":1.5,"data":1}',
      '{"type":"message","channel":"c","offset":1}',
      '{"type":"message","channel":"c","offset":1,"data":1,"epoch":7}',
      '[{"type":"message","channel":"c","offset":1,"data":1},{"type":"ack","id":1}]',
    ]) {
      const value: unknown = JSON.parse(text);
      assert.equal(fastMessages(value), undefined, text);
    }
    assert.throws(() => decodeServerFrames('{"type":"message","channel":"c","offset":-1,"data":1}'));
  });
});
