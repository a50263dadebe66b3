// The pure parts of `GET /sse`: what a request asks for (channels, where to resume each) and the token it carries.
// Every refusal is a 400 sentence naming what is wrong; the route (route.ts) answers it as JSON.
import { isValidChannel, parseSseId, type SsePosition } from "../../../protocol/index.js";
import { tokenFrom } from "../auth.js";

export interface SseChannelRequest {
  channel: string;
  /** Resume after this offset (from `since` or Last-Event-ID); undefined: start at the channel's position. */
  since: number | undefined;
  epoch: string | undefined;
}

export type SseRequest = { ok: true; channels: SseChannelRequest[] } | { ok: false; message: string };

const OFFSET_RE = /^(0|[1-9][0-9]{0,15})$/;

/**
 * `query` is the raw query string; `lastEventId` the header (or the `lastEventId` query parameter, for an
 * EventSource opened fresh: it cannot set headers). Last-Event-ID wins over `since`/`epoch`.
 */
export function parseSseRequest(query: string, lastEventIdHeader: string, maxChannels: number): SseRequest {
  const params = new URLSearchParams(query);
  const names = params.getAll("channel");
  if (names.length === 0) return { ok: false, message: "name at least one channel: /sse?channel=<name>" };
  if (names.length > maxChannels)
    return { ok: false, message: `at most ${maxChannels} channels per stream (RTGW_MAX_SUBSCRIPTIONS)` };
  const seen = new Set<string>();
  for (const name of names) {
    if (!isValidChannel(name))
      return {
        ok: false,
        message: `invalid channel name ${JSON.stringify(name)}: 1-200 of A-Z a-z 0-9 _ - : . @ / =`,
      };
    if (seen.has(name)) return { ok: false, message: `channel ${JSON.stringify(name)} named twice` };
    seen.add(name);
  }
  const single = names.length === 1 ? names[0] : undefined;

  const sinceText = params.get("since");
  const epochText = params.get("epoch");
  let positions = new Map<string, SsePosition>();
  let sinceOnly: number | undefined;
  if (sinceText !== null || epochText !== null) {
    if (single === undefined)
      return { ok: false, message: "since and epoch apply to one channel; with several, send Last-Event-ID" };
    if (sinceText === null) return { ok: false, message: "epoch needs since" };
    if (!OFFSET_RE.test(sinceText) || !Number.isSafeInteger(Number(sinceText)))
      return { ok: false, message: `since must be a non-negative integer, got ${JSON.stringify(sinceText)}` };
    if (epochText !== null) {
      const parsed = parseSseId(`${epochText}:${sinceText}`, single);
      if (!parsed.ok) return { ok: false, message: `invalid epoch ${JSON.stringify(epochText)}` };
      positions = parsed.positions;
    } else sinceOnly = Number(sinceText);
  }
  const lastEventId = lastEventIdHeader || (params.get("lastEventId") ?? "");
  if (lastEventId !== "") {
    const parsed = parseSseId(lastEventId, single);
    if (!parsed.ok) return { ok: false, message: parsed.message };
    positions = parsed.positions;
    sinceOnly = undefined;
  }
  // Entries for channels this stream does not name are ignored: the channel list is the request's.
  return {
    ok: true,
    channels: names.map((channel) => {
      const p = positions.get(channel);
      if (p) return { channel, since: p.offset, epoch: p.epoch };
      return { channel, since: channel === single ? sinceOnly : undefined, epoch: undefined };
    }),
  };
}

/** The cookie an SSE stream may carry its token in (an EventSource cannot set an Authorization header). */
export const TOKEN_COOKIE = "rtgw_token";

/** The token: `Authorization: Bearer`, then `?token=`, then the `rtgw_token` cookie. */
export function sseToken(
  authorization: string,
  queryToken: string,
  cookieHeader: string,
): string | undefined {
  const fromHeaderOrQuery = tokenFrom(authorization, queryToken);
  if (fromHeaderOrQuery !== undefined) return fromHeaderOrQuery;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== TOKEN_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return value || undefined;
    }
  }
  return undefined;
}
