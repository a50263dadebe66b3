// How a load connection talks to each system under test: our protocol (protocol/index.ts, which the
// bare uWS baseline also speaks), Socket.IO's engine.io framing, or the Pusher protocol (Soketi). Pure text in,
// events out.
import { decodeServerFrames, encodeFrame } from "../../../protocol/index.js";

export type Incoming =
  | { kind: "ready" }
  /** A subscription confirmed; `id` undefined where the protocol's acks carry none (Pusher: one per channel). */
  | { kind: "ack"; id: number | undefined; offset: number | undefined; epoch: string | undefined }
  | { kind: "message"; channel: string; offset: number; data: unknown }
  | { kind: "reconnect"; afterMs: number }
  | { kind: "reply"; text: string }
  | { kind: "error"; message: string }
  | { kind: "other" };

export interface Dialect {
  readonly name: DialectName;
  /** The path to open, given the target's path (e.g. `/ws`) and an optional token. */
  path(basePath: string, token: string | undefined): string;
  subscribe(id: number, channel: string, since: number | undefined, epoch: string | undefined): string;
  decode(payload: Buffer): Incoming[];
  /**
   * Messages in the frame at buffer[start, end) without decoding it (fan-out counting, where the client's parse
   * cost would swamp the server's); 0 for anything that is not a message frame.
   */
  countMessages(buffer: Buffer, start: number, end: number): number;
}
export const DIALECTS = ["rtgw", "socketio", "pusher"] as const;
export type DialectName = (typeof DIALECTS)[number];

/** The hot path: a `message` frame checked by hand (zod costs ~3 µs a frame; this ~0.7 µs). */
function asMessage(value: unknown): Incoming | null {
  if (typeof value !== "object" || value === null) return null;
  const frame = value as { type?: unknown; channel?: unknown; offset?: unknown; data?: unknown };
  if (frame.type !== "message" || typeof frame.channel !== "string" || !Number.isSafeInteger(frame.offset))
    return null;
  return { kind: "message", channel: frame.channel, offset: frame.offset as number, data: frame.data };
}

const MESSAGE_MARK = Buffer.from('"type":"message"');
const MESSAGE_START = Buffer.from('{"type":"message"');
const OPEN_BRACKET = 0x5b;

/** Does buffer[start, end) begin with `prefix`? */
function startsWith(buffer: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return (
    end - start >= prefix.length &&
    buffer.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0
  );
}

/** Occurrences of `mark` inside buffer[start, end). */
function countMarks(buffer: Buffer, start: number, end: number, mark: Buffer): number {
  let count = 0;
  for (
    let at = buffer.indexOf(mark, start);
    at >= 0 && at + mark.length <= end;
    at = buffer.indexOf(mark, at + mark.length)
  ) {
    count++;
  }
  return count;
}

export const rtgwDialect: Dialect = {
  name: "rtgw",
  path(basePath, token) {
    return token
      ? `${basePath}${basePath.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`
      : basePath;
  },
  subscribe(id, channel, since, epoch) {
    return encodeFrame({
      type: "subscribe",
      id,
      channel,
      ...(since !== undefined ? { since } : {}),
      ...(epoch !== undefined ? { epoch } : {}),
    });
  },
  decode(payload) {
    const text = payload.toString("utf8");
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return [{ kind: "error", message: "frame is not JSON" }];
    }
    if (Array.isArray(raw)) {
      const out: Incoming[] = [];
      for (const item of raw) out.push(asMessage(item) ?? { kind: "error", message: "bad batch item" });
      return out;
    }
    const fast = asMessage(raw);
    if (fast) return [fast];
    let frames: ReturnType<typeof decodeServerFrames>;
    try {
      frames = decodeServerFrames(text);
    } catch (error) {
      return [{ kind: "error", message: error instanceof Error ? error.message.slice(0, 200) : "bad frame" }];
    }
    return frames.map((frame): Incoming => {
      switch (frame.type) {
        case "welcome":
          return { kind: "ready" };
        case "ack":
          return { kind: "ack", id: frame.id, offset: frame.offset, epoch: frame.epoch };
        case "message":
          return { kind: "message", channel: frame.channel, offset: frame.offset, data: frame.data };
        case "reconnect":
          return { kind: "reconnect", afterMs: frame.afterMs };
        case "error":
          return { kind: "error", message: `${frame.code}: ${frame.message}` };
        default:
          return { kind: "other" };
      }
    });
  },
  countMessages(buffer, start, end) {
    if (startsWith(buffer, start, end, MESSAGE_START)) return 1;
    return buffer[start] === OPEN_BRACKET ? countMarks(buffer, start, end, MESSAGE_MARK) : 0;
  },
};

// engine.io v4 packet types are one leading digit: 0 open, 2 ping, 3 pong, 4 message; socket.io's packet
// types follow inside a `4`: 0 connect, 2 event, 3 ack. So "40" connects, `42[...]` is an event, `43<id>[...]` an ack.
const SIO_EVENT_MESSAGE = Buffer.from('42["message"');

export const socketIoDialect: Dialect = {
  name: "socketio",
  path(basePath, token) {
    const query = `EIO=4&transport=websocket${token ? `&token=${encodeURIComponent(token)}` : ""}`;
    return `${basePath}${basePath.includes("?") ? "&" : "?"}${query}`;
  },
  subscribe(id, channel) {
    return `42${id}${JSON.stringify(["subscribe", channel])}`;
  },
  decode(payload) {
    const text = payload.toString("utf8");
    if (text.startsWith("0{")) return [{ kind: "reply", text: "40" }];
    if (text === "2") return [{ kind: "reply", text: "3" }];
    if (text.startsWith("40")) return [{ kind: "ready" }];
    if (text.startsWith("42")) {
      try {
        const event: unknown = JSON.parse(text.slice(2));
        if (Array.isArray(event) && event[0] === "message") {
          return [
            asMessage({ type: "message", ...(event[1] as object) }) ?? {
              kind: "error",
              message: "bad event",
            },
          ];
        }
      } catch {
        return [{ kind: "error", message: "event is not JSON" }];
      }
      return [{ kind: "other" }];
    }
    const ack = /^43(\d+)(\[.*)$/s.exec(text);
    if (ack) {
      try {
        const args: unknown = JSON.parse(ack[2] as string);
        const first = Array.isArray(args) ? (args[0] as { offset?: unknown } | undefined) : undefined;
        const offset = typeof first?.offset === "number" ? first.offset : undefined;
        return [{ kind: "ack", id: Number(ack[1]), offset, epoch: undefined }];
      } catch {
        return [{ kind: "error", message: "ack is not JSON" }];
      }
    }
    if (text.startsWith("1") || text.startsWith("41")) return [{ kind: "reconnect", afterMs: 0 }];
    return [{ kind: "other" }];
  },
  countMessages(buffer, start, end) {
    return startsWith(buffer, start, end, SIO_EVENT_MESSAGE) ? 1 : 0;
  },
};

// Pusher protocol 7 (what Soketi speaks): `{"event":...,"channel":...,"data":...}` frames, `data` a string.
// It has no offsets: the bench's Pusher publisher numbers each channel's messages and sends
// `data = JSON.stringify({offset, data})` (bench/pusher-publisher.ts), which this dialect unwraps.
const PUSHER_MESSAGE_START = Buffer.from('{"event":"message"');
/** The event name the bench triggers (Pusher names are free; `message` keeps the frames alike). */
export const PUSHER_EVENT = "message";

const pusherFrame = (value: unknown) =>
  typeof value === "object" && value !== null
    ? (value as { event?: unknown; channel?: unknown; data?: unknown })
    : null;

/** A trigger's `data` as the bench publisher wrote it, back to offset and payload. */
function pusherPayload(channel: string, data: unknown): Incoming {
  if (typeof data !== "string") return { kind: "error", message: "pusher message data is not a string" };
  let inner: unknown;
  try {
    inner = JSON.parse(data);
  } catch {
    return { kind: "error", message: "pusher message data is not JSON" };
  }
  const { offset, data: payload } = (inner ?? {}) as { offset?: unknown; data?: unknown };
  if (!Number.isSafeInteger(offset)) return { kind: "error", message: "pusher message without an offset" };
  return { kind: "message", channel, offset: offset as number, data: payload };
}

export const pusherDialect: Dialect = {
  name: "pusher",
  path(basePath) {
    // Tokens are Pusher's per-channel auth, which public channels do not need.
    return `${basePath}${basePath.includes("?") ? "&" : "?"}protocol=7&client=rtgw-load&version=1.0.0&flash=false`;
  },
  subscribe(_id, channel) {
    return JSON.stringify({ event: "pusher:subscribe", data: { channel } });
  },
  decode(payload) {
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString("utf8"));
    } catch {
      return [{ kind: "error", message: "frame is not JSON" }];
    }
    const frame = pusherFrame(raw);
    if (!frame || typeof frame.event !== "string")
      return [{ kind: "error", message: "frame without an event" }];
    switch (frame.event) {
      case "pusher:connection_established":
        return [{ kind: "ready" }];
      case "pusher_internal:subscription_succeeded":
        return [{ kind: "ack", id: undefined, offset: undefined, epoch: undefined }];
      case "pusher:ping":
        return [{ kind: "reply", text: '{"event":"pusher:pong","data":{}}' }];
      case "pusher:error": {
        const data = pusherFrame(frame.data) as { code?: unknown; message?: unknown } | null;
        return [{ kind: "error", message: `pusher ${String(data?.code)}: ${String(data?.message)}` }];
      }
      case PUSHER_EVENT:
        return typeof frame.channel === "string"
          ? [pusherPayload(frame.channel, frame.data)]
          : [{ kind: "error", message: "pusher message without a channel" }];
      default:
        return [{ kind: "other" }];
    }
  },
  countMessages(buffer, start, end) {
    return startsWith(buffer, start, end, PUSHER_MESSAGE_START) ? 1 : 0;
  },
};

const DIALECT_BY_NAME: Record<DialectName, Dialect> = {
  rtgw: rtgwDialect,
  socketio: socketIoDialect,
  pusher: pusherDialect,
};

export function dialectNamed(name: DialectName): Dialect {
  return DIALECT_BY_NAME[name];
}
