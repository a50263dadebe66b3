// RFC 6455 framing, pure: what the lean client writes (masked, as a client must) and reads (unmasked,
// possibly split across TCP chunks, possibly fragmented). No I/O here, so it is unit-tested with tables.
import { randomFillSync } from "node:crypto";

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** A frame the peer sent that no conforming server sends; the connection must be failed. */
export class FrameProtocolError extends Error {
  override name = "FrameProtocolError";
}

// Mask keys come from a pooled random buffer: one getrandom call per 1,024 frames instead of one per frame.
const MASK_POOL_SIZE = 4096;
const maskPool = Buffer.allocUnsafe(MASK_POOL_SIZE);
let maskPoolAt = MASK_POOL_SIZE;
function nextMaskKey(): Buffer {
  if (maskPoolAt >= MASK_POOL_SIZE) {
    randomFillSync(maskPool);
    maskPoolAt = 0;
  }
  const key = maskPool.subarray(maskPoolAt, maskPoolAt + 4);
  maskPoolAt += 4;
  return key;
}

/**
 * One frame as bytes. Client frames are masked (RFC 6455 5.3); pass `maskKey` for a deterministic test,
 * `null` for an unmasked (server-side) frame.
 */
export function encodeFrame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; maskKey?: Buffer | null } = {},
): Buffer {
  const fin = options.fin ?? true;
  const maskKey = options.maskKey === undefined ? nextMaskKey() : options.maskKey;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const headerLength = 2 + lengthBytes + (maskKey ? 4 : 0);
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
  const maskBit = maskKey ? 0x80 : 0;
  if (lengthBytes === 0) {
    frame[1] = maskBit | length;
  } else if (lengthBytes === 2) {
    frame[1] = maskBit | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = maskBit | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  if (maskKey) {
    maskKey.copy(frame, 2 + lengthBytes, 0, 4);
    for (let i = 0; i < length; i++)
      frame[headerLength + i] = (payload[i] as number) ^ (maskKey[i & 3] as number);
  } else {
    payload.copy(frame, headerLength);
  }
  return frame;
}

export function encodeText(text: string, maskKey?: Buffer | null): Buffer {
  return encodeFrame(Opcode.Text, Buffer.from(text, "utf8"), { maskKey });
}

export function encodeClose(code: number, reason = "", maskKey?: Buffer | null): Buffer {
  const reasonBytes = Buffer.from(reason, "utf8");
  const payload = Buffer.allocUnsafe(2 + reasonBytes.length);
  payload.writeUInt16BE(code, 0);
  reasonBytes.copy(payload, 2);
  return encodeFrame(Opcode.Close, payload, { maskKey });
}

/** A close frame's payload: no code means 1005 (RFC 6455 7.1.5). */
export function decodeClose(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: "" };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString("utf8") };
}

/**
 * Receives each complete frame as a range of a buffer, so a caller that only needs to peek (count a message)
 * allocates nothing. The range is valid only during the call. Return false to stop reading (socket closed).
 */
export interface FrameSink {
  onFrame(fin: boolean, opcode: number, buffer: Buffer, start: number, end: number): boolean;
}

/**
 * Reads frames from a byte stream whose chunks may split a frame anywhere (even inside the header).
 * Holds only the unconsumed tail between chunks, so an idle connection keeps no buffer.
 */
export class FrameReader {
  private pending: Buffer | null = null;

  constructor(private readonly maxPayload: number = 16 * 1024 * 1024) {}

  /** Every complete frame in what has arrived so far; the rest waits for the next chunk. */
  push(chunk: Buffer): WsFrame[] {
    const frames: WsFrame[] = [];
    this.read(chunk, {
      onFrame(fin, opcode, buffer, start, end) {
        frames.push({ fin, opcode, payload: Buffer.from(buffer.subarray(start, end)) });
        return true;
      },
    });
    return frames;
  }

  /** Hand every complete frame to `sink`, in order; keep the incomplete tail for the next chunk. */
  read(chunk: Buffer, sink: FrameSink): void {
    const buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let at = 0;
    while (buffer.length - at >= 2) {
      const b0 = buffer[at] as number;
      const b1 = buffer[at + 1] as number;
      if ((b0 & 0x70) !== 0) throw new FrameProtocolError("reserved bits set (no extension was negotiated)");
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let length = b1 & 0x7f;
      let headerLength = 2;
      if (length === 126) {
        if (buffer.length - at < 4) break;
        length = buffer.readUInt16BE(at + 2);
        headerLength = 4;
      } else if (length === 127) {
        if (buffer.length - at < 10) break;
        const big = buffer.readBigUInt64BE(at + 2);
        if (big > BigInt(this.maxPayload)) throw new FrameProtocolError(`frame of ${big} bytes is too large`);
        length = Number(big);
        headerLength = 10;
      }
      if (length > this.maxPayload) throw new FrameProtocolError(`frame of ${length} bytes is too large`);
      if (opcode >= 0x8 && (length > 125 || (b0 & 0x80) === 0)) {
        throw new FrameProtocolError("control frames must be final and at most 125 bytes");
      }
      const maskLength = masked ? 4 : 0;
      const total = headerLength + maskLength + length;
      if (buffer.length - at < total) break;
      const start = at + headerLength + maskLength;
      const fin = (b0 & 0x80) !== 0;
      at += total;
      let keepGoing: boolean;
      if (masked) {
        // Servers must not mask, but unmasking costs nothing and keeps the reader usable for tests of both ends.
        const key = buffer.subarray(start - 4, start);
        const payload = Buffer.from(buffer.subarray(start, start + length));
        for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[i & 3] as number);
        keepGoing = sink.onFrame(fin, opcode, payload, 0, length);
      } else {
        keepGoing = sink.onFrame(fin, opcode, buffer, start, start + length);
      }
      if (!keepGoing) return;
    }
    // Copy the tail so the big chunk it came from can be collected.
    if (at < buffer.length) this.pending = Buffer.from(buffer.subarray(at));
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.pending?.length ?? 0;
  }
}

export type WsMessage = { kind: "text" | "binary"; payload: Buffer } | { kind: "control"; frame: WsFrame };

/**
 * Joins fragmented data frames (first frame + continuations) into whole messages; control frames
 * (close, ping, pong) may arrive between fragments and pass straight through.
 */
export class MessageAssembler {
  private fragments: Buffer[] | null = null;

  /** Inside a fragmented message (its continuations must go through accept). */
  get fragmented(): boolean {
    return this.fragments !== null;
  }
  private fragmentKind: "text" | "binary" = "text";
  private fragmentBytes = 0;

  constructor(private readonly maxMessage: number = 16 * 1024 * 1024) {}

  accept(frame: WsFrame): WsMessage | null {
    if (frame.opcode >= 0x8) return { kind: "control", frame };
    if (frame.opcode === Opcode.Continuation) {
      if (!this.fragments) throw new FrameProtocolError("continuation frame without a message to continue");
      this.fragments.push(frame.payload);
      this.fragmentBytes += frame.payload.length;
      if (this.fragmentBytes > this.maxMessage)
        throw new FrameProtocolError("fragmented message is too large");
      if (!frame.fin) return null;
      const payload = Buffer.concat(this.fragments, this.fragmentBytes);
      this.fragments = null;
      this.fragmentBytes = 0;
      return { kind: this.fragmentKind, payload };
    }
    if (frame.opcode !== Opcode.Text && frame.opcode !== Opcode.Binary) {
      throw new FrameProtocolError(`unknown opcode ${frame.opcode}`);
    }
    if (this.fragments) throw new FrameProtocolError("new message started before the fragmented one ended");
    const kind = frame.opcode === Opcode.Text ? "text" : "binary";
    if (frame.fin) return { kind, payload: frame.payload };
    this.fragments = [frame.payload];
    this.fragmentKind = kind;
    this.fragmentBytes = frame.payload.length;
    return null;
  }
}
