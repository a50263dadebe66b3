import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeClientFrame } from "../../../protocol/index.js";
import { rtgwDialect, socketIoDialect } from "../../src/load/dialect.js";

const bytes = (text: string) => Buffer.from(text, "utf8");
/** Count a frame placed in the middle of other bytes, as the reader hands it over. */
const countIn = (dialect: typeof rtgwDialect, text: string) => {
  const before = Buffer.from('xx{"type":"message"');
  const after = Buffer.from('{"type":"message"}');
  const buffer = Buffer.concat([before, bytes(text), after]);
  return dialect.countMessages(buffer, before.length, before.length + Buffer.byteLength(text));
};

describe("rtgw dialect", () => {
  it("writes subscribe frames the protocol accepts, with since and epoch on a resume", () => {
    for (const [since, epoch] of [
      [undefined, undefined],
      [12, "e1"],
    ] as const) {
      const decoded = decodeClientFrame(rtgwDialect.subscribe(1, "load:0", since, epoch));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.frame, {
        type: "subscribe",
        id: 1,
        channel: "load:0",
        ...(since === undefined ? {} : { since, epoch }),
      });
    }
    assert.equal(rtgwDialect.path("/ws", "a b"), "/ws?token=a%20b");
    assert.equal(rtgwDialect.path("/ws?x=1", undefined), "/ws?x=1");
  });

  it("decodes the frames load cares about", () => {
    const table: Array<[string, unknown[]]> = [
      ['{"type":"welcome","connectionId":"c","node":"n"}', [{ kind: "ready" }]],
      ['{"type":"ack","id":1,"offset":7,"epoch":"e"}', [{ kind: "ack", id: 1, offset: 7, epoch: "e" }]],
      [
        '{"type":"message","channel":"c","offset":8,"data":{"ts":1}}',
        [{ kind: "message", channel: "c", offset: 8, data: { ts: 1 } }],
      ],
      [
        '[{"type":"message","channel":"c","offset":1,"data":1},{"type":"message","channel":"c","offset":2,"data":2}]',
        [
          { kind: "message", channel: "c", offset: 1, data: 1 },
          { kind: "message", channel: "c", offset: 2, data: 2 },
        ],
      ],
      ['{"type":"reconnect","afterMs":1500,"reason":"draining"}', [{ kind: "reconnect", afterMs: 1500 }]],
      ['{"type":"pong","id":3}', [{ kind: "other" }]],
    ];
    for (const [text, expected] of table) assert.deepEqual(rtgwDialect.decode(bytes(text)), expected, text);
    assert.equal(rtgwDialect.decode(bytes("not json"))[0]?.kind, "error");
    assert.equal(rtgwDialect.decode(bytes('{"type":"ack"}'))[0]?.kind, "error");
  });

  it("counts messages without decoding", () => {
    assert.equal(countIn(rtgwDialect, '{"type":"message","channel":"c","offset":1,"data":1}'), 1);
    assert.equal(
      countIn(
        rtgwDialect,
        '[{"type":"message","channel":"c","offset":1,"data":1},{"type":"message","channel":"c","offset":2,"data":1}]',
      ),
      2,
    );
    assert.equal(countIn(rtgwDialect, '{"type":"ack","id":1}'), 0);
  });
});

describe("socket.io dialect", () => {
  it("speaks engine.io v4 over a bare WebSocket", () => {
    assert.equal(socketIoDialect.path("/socket.io/", undefined), "/socket.io/?EIO=4&transport=websocket");
    assert.equal(socketIoDialect.subscribe(1, "c", undefined, undefined), '421["subscribe","c"]');
    const table: Array<[string, unknown[]]> = [
      ['0{"sid":"x","pingInterval":25000}', [{ kind: "reply", text: "40" }]],
      ['40{"sid":"y"}', [{ kind: "ready" }]],
      ["2", [{ kind: "reply", text: "3" }]],
      ['431[{"offset":4}]', [{ kind: "ack", id: 1, offset: 4, epoch: undefined }]],
      [
        '42["message",{"channel":"c","offset":5,"data":{"ts":2}}]',
        [{ kind: "message", channel: "c", offset: 5, data: { ts: 2 } }],
      ],
      ["1", [{ kind: "reconnect", afterMs: 0 }]],
    ];
    for (const [text, expected] of table)
      assert.deepEqual(socketIoDialect.decode(bytes(text)), expected, text);
    assert.equal(countIn(socketIoDialect, '42["message",{"channel":"c","offset":5,"data":1}]'), 1);
    assert.equal(countIn(socketIoDialect, "2"), 0);
  });
});
