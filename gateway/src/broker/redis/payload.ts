// The compact payload on a channel's pub/sub channel. The publish script builds message payloads in Lua;
// this module is the one reader (and the TypeScript writer for presence and benchmarks).
//   message:  m<offset>|<epoch>|<publishedAt>|<data JSON>
//   presence: p<j|l>|<member JSON>
// The gateway channel itself is carried by the pub/sub channel name (keys.ts). A header of
// separators instead of a JSON envelope means the data is never parsed or re-serialized on the way through.
import { presenceMember } from "../../../../protocol/index.js";
import type { BrokerMessage, PresenceEntry, PresenceEvent } from "../broker.js";

export type DecodedPayload =
  | { type: "message"; message: BrokerMessage }
  | { type: "presence"; event: PresenceEvent }
  | { type: "invalid"; reason: string };

export function encodeMessagePayload(
  offset: number,
  epoch: string,
  publishedAt: number,
  data: string,
): string {
  return `m${offset}|${epoch}|${publishedAt}|${data}`;
}

export function encodePresencePayload(kind: "join" | "leave", member: PresenceEntry): string {
  return `p${kind === "join" ? "j" : "l"}|${JSON.stringify(member)}`;
}

export function decodePayload(channel: string, payload: string): DecodedPayload {
  const kind = payload.charCodeAt(0);
  if (kind === 109 /* m */) {
    const a = payload.indexOf("|", 1);
    const b = a === -1 ? -1 : payload.indexOf("|", a + 1);
    const c = b === -1 ? -1 : payload.indexOf("|", b + 1);
    if (c === -1) return { type: "invalid", reason: "message header is incomplete" };
    const offset = Number(payload.slice(1, a));
    const publishedAt = Number(payload.slice(b + 1, c));
    if (!Number.isSafeInteger(offset) || offset < 1 || !Number.isFinite(publishedAt) || b === a + 1) {
      return { type: "invalid", reason: "message header has a bad offset, epoch or time" };
    }
    return {
      type: "message",
      message: { channel, offset, epoch: payload.slice(a + 1, b), publishedAt, data: payload.slice(c + 1) },
    };
  }
  if (kind === 112 /* p */) {
    const flag = payload[1];
    if ((flag !== "j" && flag !== "l") || payload[2] !== "|") {
      return { type: "invalid", reason: "presence header is malformed" };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(payload.slice(3));
    } catch {
      return { type: "invalid", reason: "presence member is not JSON" };
    }
    const member = presenceMember.safeParse(raw);
    if (!member.success) return { type: "invalid", reason: "presence member has the wrong shape" };
    return {
      type: "presence",
      event: { channel, kind: flag === "j" ? "join" : "leave", member: member.data },
    };
  }
  return { type: "invalid", reason: "unknown payload kind" };
}
