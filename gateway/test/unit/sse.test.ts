// The pure parts of GET /sse: event ids (protocol/sse.ts), the request (channels, since/epoch, Last-Event-ID,
// the token), and the encoder that turns the hub's frames into events with ids and drops what was already sent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeSseId, parseSseId, type SsePosition } from "../../../protocol/index.js";
import { HEARTBEAT, SseEncoder, sseEvent } from "../../src/sse/events.js";
import { parseSseRequest, sseToken } from "../../src/sse/request.js";

const pos = (epoch: string, offset: number): SsePosition => ({ epoch, offset });

describe("SSE event ids", () => {
  const cases: Array<[string, Array<[string, SsePosition]>, boolean, string]> = [
    ["one channel, single form", [["chat:1", pos("e1", 42)]], true, "e1:42"],
    ["one channel opened among several: named", [["chat:1", pos("e1", 42)]], false, "chat:1;e1:42"],
    [
      "several",
      [
        ["a", pos("e1", 1)],
        ["b/c=d", pos("x-y", 0)],
      ],
      true,
      "a;e1:1,b/c=d;x-y:0",
    ],
    ["an epoch with a colon", [["a", pos("s:1-r", 7)]], true, "s:1-r:7"],
  ];
  for (const [name, entries, single, id] of cases)
    it(`${name}: ${id}`, () => {
      assert.equal(encodeSseId(new Map(entries), single), id);
      const back = parseSseId(id, single && entries.length === 1 ? entries[0]?.[0] : undefined);
      assert.ok(back.ok);
      assert.deepEqual([...back.positions], entries);
    });

  const bad: Array<[string, string, string | undefined, RegExp]> = [
    ["no offset", "e1", "a", /not <epoch>:<offset>/],
    ["negative offset", "e1:-1", "a", /not <epoch>:<offset>/],
    ["leading zero", "e1:01", "a", /not <epoch>:<offset>/],
    ["empty epoch", ":1", "a", /not <epoch>:<offset>/],
    ["single form with several channels", "e1:1", undefined, /exactly one channel/],
    ["entry without position", "a;e1", undefined, /is not <channel>;<epoch>:<offset>/],
    ["entry without channel", ";e1:1", undefined, /is not <channel>;<epoch>:<offset>/],
    ["channel twice", "a;e1:1,a;e1:2", undefined, /twice/],
    ["huge offset", "e1:99999999999999999", "a", /not <epoch>:<offset>/],
  ];
  for (const [name, id, single, message] of bad)
    it(`refuses ${name}`, () => {
      const r = parseSseId(id, single);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.message, message);
    });
});

describe("parseSseRequest", () => {
  const ok: Array<[string, string, string, Array<[string, number | undefined, string | undefined]>]> = [
    ["one channel", "channel=a", "", [["a", undefined, undefined]]],
    [
      "several",
      "channel=a&channel=b",
      "",
      [
        ["a", undefined, undefined],
        ["b", undefined, undefined],
      ],
    ],
    ["since", "channel=a&since=5", "", [["a", 5, undefined]]],
    ["since and epoch", "channel=a&since=5&epoch=e1", "", [["a", 5, "e1"]]],
    ["Last-Event-ID, single", "channel=a", "e1:9", [["a", 9, "e1"]]],
    ["Last-Event-ID wins over since", "channel=a&since=5&epoch=e0", "e1:9", [["a", 9, "e1"]]],
    [
      "Last-Event-ID, several, one channel not in it yet",
      "channel=a&channel=b",
      "a;e1:3",
      [
        ["a", 3, "e1"],
        ["b", undefined, undefined],
      ],
    ],
    [
      "Last-Event-ID entries for other channels ignored",
      "channel=a",
      "z;e1:3",
      [["a", undefined, undefined]],
    ],
    ["lastEventId query parameter", "channel=a&lastEventId=e2%3A4", "", [["a", 4, "e2"]]],
    ["encoded channel name", "channel=chat%3A42", "", [["chat:42", undefined, undefined]]],
  ];
  for (const [name, query, lastEventId, want] of ok)
    it(name, () => {
      const r = parseSseRequest(query, lastEventId, 3);
      assert.ok(r.ok, r.ok ? "" : r.message);
      assert.deepEqual(
        r.channels.map((c) => [c.channel, c.since, c.epoch]),
        want,
      );
    });

  const bad: Array<[string, string, string, RegExp]> = [
    ["no channel", "", "", /at least one channel/],
    ["empty channel", "channel=", "", /invalid channel name ""/],
    ["bad characters", "channel=a%20b", "", /invalid channel name "a b"/],
    ["reserved $", "channel=%24sys", "", /invalid channel name/],
    ["too many", "channel=a&channel=b&channel=c&channel=d", "", /at most 3 channels/],
    ["twice", "channel=a&channel=a", "", /named twice/],
    ["since with several", "channel=a&channel=b&since=1", "", /with several, send Last-Event-ID/],
    ["epoch without since", "channel=a&epoch=e1", "", /epoch needs since/],
    ["since not a number", "channel=a&since=1.5", "", /non-negative integer/],
    ["since negative", "channel=a&since=-1", "", /non-negative integer/],
    ["bad epoch", "channel=a&since=1&epoch=a%2Cb", "", /invalid epoch/],
    ["bad Last-Event-ID", "channel=a", "nope", /is not <epoch>:<offset>/],
  ];
  for (const [name, query, lastEventId, message] of bad)
    it(`refuses ${name}`, () => {
      const r = parseSseRequest(query, lastEventId, 3);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.message, message);
    });
});

describe("sseToken", () => {
  const cases: Array<[string, string, string, string, string | undefined]> = [
    ["header", "Bearer h", "q", "rtgw_token=c", "h"],
    ["query", "", "q", "rtgw_token=c", "q"],
    ["cookie", "", "", "a=1; rtgw_token=c%2Ed; b=2", "c.d"],
    ["other cookies only", "", "", "a=1; rtgw_tokenx=2", undefined],
    ["none", "", "", "", undefined],
  ];
  for (const [name, authorization, query, cookie, want] of cases)
    it(name, () => assert.equal(sseToken(authorization, query, cookie), want));
});

describe("sseEvent", () => {
  it("writes event, id, retry and one data line per line", () => {
    assert.equal(sseEvent(undefined, "e:1", "{}"), "id: e:1\ndata: {}\n\n");
    assert.equal(sseEvent("reconnect", undefined, "x", 250), "event: reconnect\nretry: 250\ndata: x\n\n");
    assert.equal(sseEvent("m", "", "a\nb\r\nc"), "event: m\ndata: a\ndata: b\ndata: c\n\n");
    assert.equal(HEARTBEAT, ":\n\n");
  });
});

describe("SseEncoder", () => {
  const msg = (channel: string, offset: number, epoch?: string) =>
    JSON.stringify({ type: "message", channel, offset, data: { n: offset }, ...(epoch ? { epoch } : {}) });
  /** Events as "name id data.offset" lines. */
  const story = (text: string) =>
    text
      .split("\n\n")
      .filter((e) => e !== "")
      .map((e) => {
        const lines = e.split("\n");
        const field = (k: string) => lines.find((l) => l.startsWith(`${k}: `))?.slice(k.length + 2);
        const data = JSON.parse(field("data") ?? "null") as { offset?: number };
        return `${field("event") ?? "message"} ${field("id") ?? "-"} ${data.offset ?? "-"}`;
      });

  it("ids follow each message; duplicates and older offsets are dropped", () => {
    const e = new SseEncoder(true);
    assert.deepEqual(story(e.subscribed("a", pos("e1", 5), undefined, pos("e1", 5))), ["subscribed e1:5 5"]);
    assert.deepEqual(story(e.frame(msg("a", 6))), ["message e1:6 6"]);
    assert.deepEqual(story(e.frame(`[${msg("a", 6)},${msg("a", 7)},${msg("a", 8)}]`)), [
      "message e1:7 7",
      "message e1:8 8",
    ]);
    assert.deepEqual(story(e.frame(msg("z", 1))), [], "a channel the stream is not on");
  });

  it("a resume replays from `start`; the ack's offset is the channel's", () => {
    const e = new SseEncoder(true);
    assert.deepEqual(story(e.subscribed("a", pos("e1", 9), true, pos("e1", 3))), ["subscribed e1:3 9"]);
    assert.deepEqual(story(e.frame(msg("a", 4))), ["message e1:4 4"]);
  });

  it("recovered:false: a resync at the channel's position, the rest of history is not sent", () => {
    const e = new SseEncoder(true);
    assert.deepEqual(story(e.subscribed("a", pos("e2", 9), false, pos("e2", 3))), [
      "subscribed e2:9 9",
      "resync e2:9 9",
    ]);
    assert.deepEqual(story(e.frame(msg("a", 4))), []);
    assert.deepEqual(story(e.frame(msg("a", 10))), ["message e2:10 10"]);
  });

  it("a resync moves the position (a stale one is dropped); an epoch mark starts the new epoch", () => {
    const e = new SseEncoder(false);
    e.subscribed("a", pos("e1", 0), undefined, pos("e1", 0));
    e.subscribed("b", pos("e1", 0), undefined, pos("e1", 0));
    const resync = (offset: number, epoch: string) =>
      JSON.stringify({ type: "resync", channel: "a", epoch, offset, recovered: false });
    assert.deepEqual(story(e.frame(msg("a", 1))), ["message a;e1:1,b;e1:0 1"]);
    assert.deepEqual(story(e.frame(resync(1, "e1"))), [], "stale");
    assert.deepEqual(story(e.frame(resync(0, "e2"))), ["resync a;e2:0,b;e1:0 0"]);
    assert.deepEqual(story(e.frame(msg("a", 1, "e2"))), ["message a;e2:1,b;e1:0 1"]);
    assert.deepEqual(story(e.frame(msg("b", 1, "e3"))), ["message a;e2:1,b;e3:1 1"]);
  });

  it("reconnect carries retry = afterMs; unsubscribed drops the channel from ids; others pass by name", () => {
    const e = new SseEncoder(false);
    e.subscribed("a", pos("e1", 0), undefined, pos("e1", 0));
    e.subscribed("b", pos("e1", 0), undefined, pos("e1", 0));
    assert.match(
      e.frame(JSON.stringify({ type: "reconnect", afterMs: 1234, reason: "draining" })),
      /^event: reconnect\nretry: 1234\ndata: \{"type":"reconnect"/,
    );
    assert.deepEqual(
      story(e.frame(JSON.stringify({ type: "unsubscribed", channel: "a", reason: "server" }))),
      ["unsubscribed - -"],
    );
    assert.deepEqual(story(e.frame(msg("b", 1))), ["message b;e1:1 1"]);
    assert.match(
      SseEncoder.close(4002, "bye"),
      /^event: close\ndata: \{"type":"close","code":4002,"reason":"bye"\}/,
    );
  });
});
