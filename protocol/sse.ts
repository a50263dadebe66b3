// The SSE fallback's event ids (`GET /sse`): where a stream stands on each of its channels, so that a reconnect
// with `Last-Event-ID` resumes with no gap and no duplicate. Shared by the gateway (writes them) and the SDK
// (reads them to reopen a stream with another channel set). Pure and dependency-free: the browser bundle has it.
//
//   one channel:      `<epoch>:<offset>`                       e.g. `1f2e3d:42`
//   several channels: `<channel>;<epoch>:<offset>,…`            e.g. `chat:1;1f2e3d:42,news;9a8b:7`
//
// `;` and `,` never occur in channel names (protocol/channels.ts) and are refused in epochs here; the epoch is
// everything before the entry's last `:` (an epoch may contain `:`, an offset never does).

/** A stream's position on one channel: the last offset it was sent, in its epoch. */
export interface SsePosition {
  epoch: string;
  offset: number;
}

const EPOCH_RE = /^[^,;\s]{1,64}$/;
const OFFSET_RE = /^(0|[1-9][0-9]{0,15})$/;

function parsePosition(text: string): SsePosition | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const epoch = text.slice(0, colon);
  const offset = text.slice(colon + 1);
  if (!EPOCH_RE.test(epoch) || !OFFSET_RE.test(offset)) return undefined;
  const n = Number(offset);
  return Number.isSafeInteger(n) ? { epoch, offset: n } : undefined;
}

/**
 * The id of an event: the single-channel form when the stream has exactly one channel (`single`), else every
 * channel's position (in the map's order).
 */
export function encodeSseId(positions: ReadonlyMap<string, SsePosition>, single: boolean): string {
  if (single && positions.size === 1) {
    const [p] = positions.values() as IterableIterator<SsePosition>;
    return `${(p as SsePosition).epoch}:${(p as SsePosition).offset}`;
  }
  const parts: string[] = [];
  for (const [channel, p] of positions) parts.push(`${channel};${p.epoch}:${p.offset}`);
  return parts.join(",");
}

/**
 * Read an id. `single` names the stream's one channel when it has one: the single-channel form is valid only then.
 * Returns the positions by channel, or a sentence saying what is wrong.
 */
export function parseSseId(
  id: string,
  single: string | undefined,
): { ok: true; positions: Map<string, SsePosition> } | { ok: false; message: string } {
  const positions = new Map<string, SsePosition>();
  if (!id.includes(";")) {
    const p = parsePosition(id);
    if (!p) return { ok: false, message: `Last-Event-ID ${JSON.stringify(id)} is not <epoch>:<offset>` };
    if (single === undefined)
      return { ok: false, message: "Last-Event-ID <epoch>:<offset> needs exactly one channel" };
    positions.set(single, p);
    return { ok: true, positions };
  }
  for (const entry of id.split(",")) {
    const semi = entry.indexOf(";");
    const channel = entry.slice(0, semi);
    const p = semi > 0 ? parsePosition(entry.slice(semi + 1)) : undefined;
    if (!p)
      return {
        ok: false,
        message: `Last-Event-ID entry ${JSON.stringify(entry)} is not <channel>;<epoch>:<offset>`,
      };
    if (positions.has(channel))
      return { ok: false, message: `Last-Event-ID names ${JSON.stringify(channel)} twice` };
    positions.set(channel, p);
  }
  return { ok: true, positions };
}
