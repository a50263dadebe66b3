import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeClientFrame } from "../../../protocol/index.js";
import { pusherEventBody } from "../../src/bench/pusher-publisher.js";
import {
  DIALECTS,
  dialectNamed,
  pusherDialect,
  rtgwDialect,
  socketIoDialect,
} from "../../src/load/dialect.js";
import { workerConfig } from "../../src/load/ipc.js";

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

describe("pusher dialect", () => {
  it("opens /app/<key> with protocol 7 and subscribes with pusher:subscribe", () => {
    assert.equal(
      pusherDialect.path("/app/k", undefined),
      "/app/k?protocol=7&client=rtgw-load&version=1.0.0&flash=false",
    );
    assert.deepEqual(JSON.parse(pusherDialect.subscribe(1, "relay-3", 5, "e")), {
      event: "pusher:subscribe",
      data: { channel: "relay-3" },
    });
  });

  it("decodes what Soketi sends, with the offset the bench publisher put in the data", () => {
    // What Soketi broadcasts for a trigger: {event, channel, data} with the trigger's data string as is.
    const trigger = JSON.parse(pusherEventBody("c", 8, '{"ts":1.5,"seq":2}')) as { data: string };
    const table: Array<[string, unknown[]]> = [
      [
        '{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"1.2\\",\\"activity_timeout\\":30}"}',
        [{ kind: "ready" }],
      ],
      [
        '{"event":"pusher_internal:subscription_succeeded","channel":"c"}',
        [{ kind: "ack", id: undefined, offset: undefined, epoch: undefined }],
      ],
      [
        JSON.stringify({ event: "message", channel: "c", data: trigger.data }),
        [{ kind: "message", channel: "c", offset: 8, data: { ts: 1.5, seq: 2 } }],
      ],
      ['{"event":"pusher:ping","data":{}}', [{ kind: "reply", text: '{"event":"pusher:pong","data":{}}' }]],
      [
        '{"event":"pusher:error","data":{"code":4001,"message":"App key k does not exist."}}',
        [{ kind: "error", message: "pusher 4001: App key k does not exist." }],
      ],
      ['{"event":"other-event","channel":"c","data":"x"}', [{ kind: "other" }]],
    ];
    for (const [text, expected] of table) assert.deepEqual(pusherDialect.decode(bytes(text)), expected, text);
    for (const bad of [
      "not json",
      '{"data":1}',
      '{"event":"message","data":"{}"}',
      '{"event":"message","channel":"c","data":{"offset":1}}',
      '{"event":"message","channel":"c","data":"{\\"data\\":1}"}',
    ])
      assert.equal(pusherDialect.decode(bytes(bad))[0]?.kind, "error", bad);
  });

  it("counts message events only", () => {
    assert.equal(countIn(pusherDialect, '{"event":"message","channel":"c","data":"{}"}'), 1);
    assert.equal(countIn(pusherDialect, '{"event":"pusher:ping","data":{}}'), 0);
  });

  it("is a dialect workers accept by name", () => {
    assert.deepEqual([...DIALECTS], ["rtgw", "socketio", "pusher"]);
    for (const name of DIALECTS) assert.equal(dialectNamed(name).name, name);
    const config = {
      workerIndex: 0,
      targets: ["ws://127.0.0.1:6001/app/k"],
      first: 0,
      connections: 1,
      sourceAddresses: [],
      rampSeconds: 0,
      channels: ["c"],
      mode: "count",
      reportIntervalMs: 50,
      deadlineMs: 1000,
      maxPendingConnects: 1,
      reconnect: false,
    };
    assert.ok(workerConfig.safeParse({ ...config, dialect: "pusher" }).success);
    assert.ok(!workerConfig.safeParse({ ...config, dialect: "mqtt" }).success);
  });
});
