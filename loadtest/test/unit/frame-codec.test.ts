import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeClose,
  encodeClose,
  encodeFrame,
  FrameProtocolError,
  FrameReader,
  MessageAssembler,
  Opcode,
  type WsFrame,
} from "../../src/ws/frame-codec.js";
import { expectedAccept, parseUpgradeResponse, upgradeRequest } from "../../src/ws/handshake.js";

const serverFrame = (opcode: number, payload: Buffer, fin = true) =>
  encodeFrame(opcode, payload, { fin, maskKey: null });

/** Feed `bytes` to a fresh reader in chunks of `size` and collect every frame. */
function readInChunks(bytes: Buffer, size: number): WsFrame[] {
  const reader = new FrameReader();
  const frames: WsFrame[] = [];
  for (let at = 0; at < bytes.length; at += size) frames.push(...reader.push(bytes.subarray(at, at + size)));
  assert.equal(reader.buffered, 0);
  return frames;
}

describe("frame codec", () => {
  it("encodes the three length forms at their boundaries", () => {
    const cases: Array<[number, number, number]> = [
      // payload length, expected second byte's length field, header length (unmasked)
      [0, 0, 2],
      [125, 125, 2],
      [126, 126, 4],
      [65535, 126, 4],
      [65536, 127, 10],
      [70000, 127, 10],
    ];
    for (const [length, field, header] of cases) {
      const frame = serverFrame(Opcode.Text, Buffer.alloc(length, 0x61));
      assert.equal(frame.length, header + length, `length ${length}`);
      assert.equal((frame[1] as number) & 0x7f, field, `length ${length}`);
      const [decoded] = readInChunks(frame, frame.length);
      assert.equal(decoded?.payload.length, length);
    }
  });

  it("masks client frames and the reader unmasks them", () => {
    const maskKey = Buffer.from([1, 2, 3, 4]);
    const frame = encodeFrame(Opcode.Text, Buffer.from("hello"), { maskKey });
    assert.equal((frame[1] as number) & 0x80, 0x80);
    assert.deepEqual(frame.subarray(2, 6), maskKey);
    assert.notEqual(frame.subarray(6).toString(), "hello");
    const [decoded] = readInChunks(frame, frame.length);
    assert.equal(decoded?.payload.toString(), "hello");
    // Default: a fresh random key each frame.
    const a = encodeFrame(Opcode.Text, Buffer.from("x"));
    const b = encodeFrame(Opcode.Text, Buffer.from("x"));
    assert.equal((a[1] as number) & 0x80, 0x80);
    assert.equal(a.length, 2 + 4 + 1);
    assert.ok(!a.subarray(2, 6).equals(b.subarray(2, 6)), "two frames got the same mask key");
  });

  it("reads frames split across TCP chunks at every position", () => {
    const stream = Buffer.concat([
      serverFrame(Opcode.Text, Buffer.from('{"type":"welcome"}')),
      serverFrame(Opcode.Ping, Buffer.from("p")),
      serverFrame(Opcode.Text, Buffer.alloc(300, 0x62)),
      serverFrame(Opcode.Binary, Buffer.alloc(70_000, 0x63)),
      serverFrame(Opcode.Close, Buffer.from([0x03, 0xf4])),
    ]);
    for (const size of [1, 2, 3, 7, 64, 1000, stream.length]) {
      const frames = readInChunks(stream, size);
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.payload.length]),
        [
          [Opcode.Text, 18],
          [Opcode.Ping, 1],
          [Opcode.Text, 300],
          [Opcode.Binary, 70_000],
          [Opcode.Close, 2],
        ],
        `chunk size ${size}`,
      );
    }
  });

  it("joins fragmented messages, letting control frames through between fragments", () => {
    const stream = Buffer.concat([
      serverFrame(Opcode.Text, Buffer.from("hel"), false),
      serverFrame(Opcode.Ping, Buffer.from("")),
      serverFrame(Opcode.Continuation, Buffer.from("lo "), false),
      serverFrame(Opcode.Continuation, Buffer.from("world"), true),
      serverFrame(Opcode.Text, Buffer.from("next")),
    ]);
    const assembler = new MessageAssembler();
    const out: string[] = [];
    for (const frame of readInChunks(stream, 5)) {
      const message = assembler.accept(frame);
      if (message === null) continue;
      out.push(message.kind === "control" ? `control:${message.frame.opcode}` : message.payload.toString());
    }
    assert.deepEqual(out, [`control:${Opcode.Ping}`, "hello world", "next"]);
  });

  it("rejects what a conforming server never sends", () => {
    const bad: Array<[string, () => void]> = [
      ["reserved bit", () => new FrameReader().push(Buffer.from([0xc1, 0x00]))],
      ["fragmented control frame", () => new FrameReader().push(Buffer.from([0x09, 0x00]))],
      ["long control frame", () => new FrameReader().push(serverFrame(Opcode.Ping, Buffer.alloc(126)))],
      ["oversized frame", () => new FrameReader(10).push(serverFrame(Opcode.Text, Buffer.alloc(11)))],
      [
        "orphan continuation",
        () => new MessageAssembler().accept({ fin: true, opcode: 0, payload: Buffer.alloc(0) }),
      ],
      [
        "interleaved data message",
        () => {
          const assembler = new MessageAssembler();
          assembler.accept({ fin: false, opcode: Opcode.Text, payload: Buffer.from("a") });
          assembler.accept({ fin: true, opcode: Opcode.Text, payload: Buffer.from("b") });
        },
      ],
    ];
    for (const [name, run] of bad) assert.throws(run, FrameProtocolError, name);
  });

  it("encodes and decodes close frames", () => {
    const frame = encodeClose(1012, "draining", null);
    const [decoded] = readInChunks(frame, 3);
    assert.equal(decoded?.opcode, Opcode.Close);
    assert.deepEqual(decodeClose(decoded?.payload ?? Buffer.alloc(0)), { code: 1012, reason: "draining" });
    assert.deepEqual(decodeClose(Buffer.alloc(0)), { code: 1005, reason: "" });
    const masked = encodeClose(1000);
    assert.equal((masked[1] as number) & 0x80, 0x80);
    const [unmasked] = new FrameReader().push(masked);
    assert.equal(decodeClose(unmasked?.payload ?? Buffer.alloc(0)).code, 1000);
  });
});

describe("upgrade handshake", () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";

  it("computes the RFC 6455 example accept value", () => {
    assert.equal(expectedAccept(key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("writes the request with extra headers", () => {
    const request = upgradeRequest("127.0.0.1:8080", "/ws?token=t", key, { Authorization: "Bearer x" });
    assert.match(request, /^GET \/ws\?token=t HTTP\/1\.1\r\n/);
    assert.match(request, /\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n/);
    assert.match(request, /\r\nAuthorization: Bearer x\r\n\r\n$/);
  });

  it("parses accepted, rejected and partial responses", () => {
    const ok = Buffer.from(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x01a",
      "latin1",
    );
    const accepted = parseUpgradeResponse(ok, key);
    assert.equal(accepted.state, "accepted");
    assert.deepEqual(accepted.state === "accepted" ? [...accepted.rest] : [], [0x81, 0x01, 0x61]);
    assert.deepEqual(parseUpgradeResponse(ok.subarray(0, 40), key), { state: "incomplete" });
    assert.deepEqual(parseUpgradeResponse(Buffer.from("HTTP/1.1 503 Service Unavailable\r\n\r\n"), key), {
      state: "rejected",
      status: 503,
      reason: "Service Unavailable",
    });
    const wrongAccept = Buffer.from(ok.toString("latin1").replace("s3pP", "XXXX"), "latin1");
    assert.equal(parseUpgradeResponse(wrongAccept, key).state, "rejected");
  });
});
