// What a presence answer or join/leave frame tells others about a member: the connection id and node always (they
// name a connection, and join/leave are matched on them), the token's `sub` (a person) only when
// RTGW_PRESENCE_FIELDS names it. The broker keeps the whole entry; this runs where members go out to clients.
import type { PresenceEntry } from "./broker/broker.js";

export const PRESENCE_FIELDS = ["sub"] as const;
export type PresenceField = (typeof PRESENCE_FIELDS)[number];

export function exposeMember(entry: PresenceEntry, fields: ReadonlySet<PresenceField>): PresenceEntry {
  return fields.has("sub") || entry.sub === undefined
    ? entry
    : { connectionId: entry.connectionId, node: entry.node };
}
