// The SDK's SSE fallback, pure parts: the event-stream parser (chunks split anywhere), the stream URL, and when
// the client falls back from WebSocket to SSE.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SseEvent, SseParser, sseUrl } from "../../src/sse.js";
import { transportAfterFailure } from "../../src/transport-choice.js";

describe("SseParser", () => {
  const cases: Array<[string, string, Array<Partial<SseEvent>>]> = [
    ["one event", "data: x\n\n", [{ event: "message", data: "x", id: "" }]],
    ["named, with id", "event: resync\nid: e:1\ndata: {}\n\n", [{ event: "resync", data: "{}", id: "e:1" }]],
    ["multi-line data joined with \\n", "data: a\ndata: b\n\n", [{ data: "a\nb" }]],
    ["comments and heartbeats ignored", ": hi\n\n:\n\ndata: x\n\n", [{ data: "x" }]],
    ["no space after the colon", "data:x\n\n", [{ data: "x" }]],
    [
      "CRLF and CR line ends",
      "data: a\r\n\r\ndata: b\r\rdata: c\n\n",
      [{ data: "a" }, { data: "b" }, { data: "c" }],
    ],
    ["the id persists to later events", "id: 1\ndata: a\n\ndata: b\n\n", [{ id: "1" }, { id: "1" }]],
    ["retry", "retry: 250\nevent: reconnect\ndata: {}\n\n", [{ event: "reconnect", retry: 250 }]],
    ["a bad retry is ignored", "retry: soon\ndata: x\n\n", [{ data: "x", retry: undefined }]],
    ["no data: no event", "event: x\n\n", []],
    ["unfinished event waits", "data: x\n", []],
  ];
  for (const [name, text, want] of cases)
    it(name, () => {
      const got = new SseParser().feed(text);
      assert.equal(got.length, want.length);
      want.forEach((w, i) => {
        for (const [k, v] of Object.entries(w))
          assert.deepEqual(got[i]?.[k as keyof SseEvent], v, `${i}.${k}`);
      });
    });

  it("gives the same events however the text is split (a CRLF across two chunks included)", () => {
    const text = "event: a\r\nid: e:1\r\ndata: one\r\n\r\n: beat\r\n\r\ndata: two\ndata: lines\n\n";
    const whole = new SseParser().feed(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const parts = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
      assert.deepEqual(parts, whole, `cut at ${cut}`);
    }
    assert.equal(whole.length, 2);
  });
});

describe("sseUrl", () => {
  const cases: Array<[string, string]> = [
    ["ws://h:8080/ws", "http://h:8080/sse"],
    ["wss://h/ws?token=x", "https://h/sse"],
    ["https://h/rt/ws", "https://h/rt/sse"],
    ["http://h", "http://h/sse"],
    ["http://h/prefix/", "http://h/prefix/sse"],
  ];
  for (const [url, want] of cases) it(url, () => assert.equal(sseUrl(url), want));
});

describe("transportAfterFailure", () => {
  const both = ["websocket", "sse"] as const;
  const cases: Array<
    [string, readonly ("websocket" | "sse")[], "websocket" | "sse", number, "websocket" | "sse"]
  > = [
    ["WebSocket only: never SSE", ["websocket"], "websocket", 10, "websocket"],
    ["below the threshold", both, "websocket", 1, "websocket"],
    ["at the threshold", both, "websocket", 2, "sse"],
    ["sticky once on SSE", both, "sse", 0, "sse"],
  ];
  for (const [name, transports, current, failures, want] of cases)
    it(name, () =>
      assert.equal(
        transportAfterFailure({ transports, current, failuresInARow: failures, threshold: 2 }),
        want,
      ),
    );
});
