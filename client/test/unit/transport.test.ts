import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { messageText, resolveWebSocket, socketUrl, type WebSocketConstructor } from "../../src/transport.js";

describe("socketUrl", () => {
  const table: Array<[url: string, token: string | undefined, expected: string]> = [
    ["ws://127.0.0.1:8080/ws", undefined, "ws://127.0.0.1:8080/ws"],
    ["ws://127.0.0.1:8080/ws", "a.b.c", "ws://127.0.0.1:8080/ws?token=a.b.c"],
    ["http://gw.local/ws", undefined, "ws://gw.local/ws"],
    ["https://gw.example.com/ws?x=1", "t", "wss://gw.example.com/ws?x=1&token=t"],
    ["wss://gw.example.com/ws?token=old", "new", "wss://gw.example.com/ws?token=new"],
    ["ws://h/ws", "a+b/c=", "ws://h/ws?token=a%2Bb%2Fc%3D"],
  ];
  for (const [url, token, expected] of table) {
    it(`${url} + ${token} → ${expected}`, () => assert.equal(socketUrl(url, token), expected));
  }
  it("refuses other schemes and non-URLs", () => {
    assert.throws(() => socketUrl("ftp://h/ws", undefined), TypeError);
    assert.equal(
      socketUrl("wss://h/ws", "t0k", "frame"),
      "wss://h/ws?auth=frame",
      "frame: the token stays out",
    );
    assert.throws(() => socketUrl("not a url", undefined), TypeError);
  });
});

describe("messageText", () => {
  it("reads strings, ArrayBuffers and byte views; refuses anything else", () => {
    const bytes = new TextEncoder().encode('{"type":"pong","id":1}');
    assert.equal(messageText('{"a":1}'), '{"a":1}');
    assert.equal(messageText(bytes), '{"type":"pong","id":1}');
    assert.equal(messageText(bytes.buffer), '{"type":"pong","id":1}');
    assert.equal(messageText(Buffer.from("é")), "é");
    assert.equal(messageText(42), undefined);
    assert.equal(messageText(null), undefined);
  });
});

describe("resolveWebSocket", () => {
  it("prefers the injected constructor, else the global one, else says how to fix it", () => {
    const injected = class {} as unknown as WebSocketConstructor;
    const global = class {} as unknown as WebSocketConstructor;
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    try {
      g.WebSocket = global;
      assert.equal(resolveWebSocket(injected), injected);
      assert.equal(resolveWebSocket(undefined), global);
      delete g.WebSocket;
      assert.throws(() => resolveWebSocket(undefined), /pass one/);
    } finally {
      if (saved === undefined) delete g.WebSocket;
      else g.WebSocket = saved;
    }
  });
});
