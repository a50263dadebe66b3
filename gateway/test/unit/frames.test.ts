import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { config, globalConfig } from "zod/v4/core";
import {
  decodeClientFrame,
  decodeServerFrames,
  encodeMessage,
  encodeMessageBatch,
} from "../../../protocol/index.js";
import { batchFrames } from "../../src/hub.js";
import { effectiveMaxConnections, parseOpenFileLimit } from "../../src/limits.js";

describe("client frame parsing", () => {
  const good: [string, string][] = [
    ['{"type":"subscribe","id":1,"channel":"chat:42"}', "subscribe"],
    ['{"type":"subscribe","id":1,"channel":"chat:42","since":17,"epoch":"e","presence":true}', "subscribe"],
    ['{"type":"unsubscribe","id":2,"channel":"chat:42"}', "unsubscribe"],
    ['{"type":"publish","id":3,"channel":"chat:42","data":{"a":[1,null,"x"]}}', "publish"],
    ['{"type":"publish","id":3,"channel":"c","data":null}', "publish"],
    ['{"type":"ping","id":4}', "ping"],
    ['{"type":"presence","id":5,"channel":"chat:42"}', "presence"],
  ];
  for (const [text, type] of good)
    it(`accepts ${text}`, () => {
      const r = decodeClientFrame(text);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.frame.type, type);
    });

  const bad: [string, number | undefined, RegExp][] = [
    ["not json", undefined, /not valid JSON/],
    ["[]", undefined, /./],
    ["null", undefined, /./],
    ['{"type":"nope","id":1}', 1, /./],
    ['{"type":"subscribe","id":1}', 1, /channel/],
    ['{"type":"subscribe","id":1,"channel":""}', 1, /empty/],
    ['{"type":"subscribe","id":1,"channel":"a b"}', 1, /letters, digits/],
    [`{"type":"subscribe","id":1,"channel":"${"x".repeat(201)}"}`, 1, /at most 200/],
    ['{"type":"subscribe","id":1,"channel":"c","since":-1}', 1, /since/],
    ['{"type":"subscribe","id":1,"channel":"c","extra":1}', 1, /./],
    ['{"type":"publish","id":-1,"channel":"c","data":1}', undefined, /id/],
    ['{"type":"publish","id":1.5,"channel":"c","data":1}', undefined, /id/],
    ['{"type":"publish","id":"1","channel":"c","data":1}', undefined, /id/],
    ['{"type":"publish","id":7,"channel":"c"}', 7, /data/],
    ['{"type":"ping"}', undefined, /id/],
  ];
  for (const [text, id, message] of bad)
    it(`rejects ${text.slice(0, 60)}`, () => {
      const r = decodeClientFrame(text);
      assert.ok(!r.ok);
      assert.equal(r.id, id);
      assert.match(r.message, message);
    });
});

// The protocol is on zod/mini, which installs no locale: its messages would all read "Invalid input". The
// bad_request texts clients get must stay the English ones classic zod gave, whatever was configured before.
describe("bad_request messages without a configured zod locale", () => {
  const saved = globalConfig.localeError;
  before(() => config({ localeError: undefined }));
  after(() => config({ localeError: saved }));
  const cases: [string, string][] = [
    [
      '{"type":"publish","id":"1","channel":"c","data":1}',
      "id: Invalid input: expected number, received string",
    ],
    [
      '{"type":"publish","id":1.5,"channel":"c","data":1}',
      "id: Invalid input: expected int, received number",
    ],
    ['{"type":"ping","id":9007199254740992}', "id: Too big: expected int to be <=9007199254740991"],
    [
      '{"type":"nope","id":1}',
      "type: Invalid discriminator value. Expected 'subscribe' | 'unsubscribe' | 'publish' | 'ping' | 'presence' | 'refresh'",
    ],
    ['{"type":"subscribe","id":1,"channel":"c","extra":1}', 'Unrecognized key: "extra"'],
    ['{"type":"subscribe","id":1,"channel":"c","since":-1}', "since: Too small: expected number to be >=0"],
    [
      `{"type":"subscribe","id":1,"channel":"c","epoch":"${"e".repeat(65)}"}`,
      "epoch: Too big: expected string to have <=64 characters",
    ],
    [
      '{"type":"subscribe","id":1,"channel":"a b"}',
      "channel: channel may contain only letters, digits and _ - : . @ / =",
    ],
    ["[]", "Invalid input: expected object, received array"],
  ];
  for (const [text, message] of cases)
    it(`${text.slice(0, 50)} → ${message.slice(0, 40)}`, () => {
      const r = decodeClientFrame(text);
      assert.ok(!r.ok);
      assert.equal(r.message, message);
    });
});

describe("server frame encoding", () => {
  it("a batch is a JSON array of message frames; one message is a plain frame", () => {
    const a = encodeMessage("c", 1, '{"x":1}');
    const b = encodeMessage("c", 2, '"y"');
    assert.deepEqual(decodeServerFrames(encodeMessageBatch([a])), [
      { type: "message", channel: "c", offset: 1, data: { x: 1 } },
    ]);
    assert.deepEqual(
      decodeServerFrames(encodeMessageBatch([a, b])).map((f) => f.type === "message" && f.offset),
      [1, 2],
    );
  });
});

describe("open-file limit", () => {
  const limits = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63707                63707                processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes`;
  it("parses the soft limit", () => {
    assert.equal(parseOpenFileLimit(limits), 20000);
    assert.equal(
      parseOpenFileLimit("Max open files            unlimited            unlimited            files"),
      undefined,
    );
    assert.equal(parseOpenFileLimit(""), undefined);
  });
  it("caps RTGW_MAX_CONNECTIONS below it", () => {
    assert.equal(effectiveMaxConnections(100_000, 20_000), 20_000 - 64);
    assert.equal(effectiveMaxConnections(1000, 20_000), 1000);
    assert.equal(effectiveMaxConnections(1000, undefined), 1000);
    assert.equal(effectiveMaxConnections(1000, 10), 1);
  });
});

describe("batch frames", () => {
  const msg = (offset: number, size: number) => ({
    channel: "c",
    offset,
    epoch: "e",
    data: JSON.stringify("x".repeat(size)),
    publishedAt: 0,
  });
  it("one message is a plain frame, several an array, large runs split near 64 KB, order kept", () => {
    assert.deepEqual([...batchFrames([])], []);
    const one = [...batchFrames([msg(1, 10)])];
    assert.equal(one.length, 1);
    assert.ok(one[0]?.startsWith("{"));
    const many = [...batchFrames(Array.from({ length: 100 }, (_, i) => msg(i + 1, 2000)))];
    assert.ok(many.length >= 3 && many.length <= 5, `${many.length} frames`);
    for (const f of many) assert.ok(f.length <= 64 * 1024 + 2100);
    const offsets = many.flatMap((f) =>
      decodeServerFrames(f).map((x) => (x.type === "message" ? x.offset : -1)),
    );
    assert.deepEqual(
      offsets,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });
});
