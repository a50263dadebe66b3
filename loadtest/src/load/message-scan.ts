// The load worker's hot path, pure: a frame of the load publisher's own messages read with one sticky regex instead
// of JSON.parse, since a worker needs only each message's channel, offset and send time. Anything else (another
// data shape, an escape in a string, acks, welcomes) returns null and goes through the dialect's full decode, so
// every message is still seen and checked for gaps and duplicates.

export interface ScannedMessage {
  channel: string;
  offset: number;
  /** The publisher's send time (ms since the epoch), from `data.ts`. */
  sentAt: number;
}

// protocol/server-frames.ts encodeMessage, with the publisher's data (load/publisher.ts: {"ts":…,"seq":…}).
const MESSAGE =
  /\{"type":"message","channel":"([^"\\]*)","offset":(\d+)(?:,"epoch":"[^"\\]*")?,"data":\{"ts":(\d+(?:\.\d+)?),"seq":\d+\}\}/y;

/** The messages of a single-message frame or a batch (`[m,m,…]`), or null when the frame is not only those. */
export function scanMessages(text: string): ScannedMessage[] | null {
  const batch = text.charCodeAt(0) === 0x5b;
  let at = batch ? 1 : 0;
  const out: ScannedMessage[] = [];
  for (;;) {
    MESSAGE.lastIndex = at;
    const m = MESSAGE.exec(text);
    if (m === null) return null;
    const offset = Number(m[2]);
    if (!Number.isSafeInteger(offset)) return null;
    out.push({ channel: m[1] as string, offset, sentAt: Number(m[3]) });
    at = MESSAGE.lastIndex;
    if (!batch) return at === text.length ? out : null;
    const next = text.charCodeAt(at);
    if (next === 0x5d) return at + 1 === text.length ? out : null;
    if (next !== 0x2c) return null;
    at++;
  }
}
