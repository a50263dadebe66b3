// Which Redis server term holds a channel's keys. Replication is asynchronous: a promoted replica may lack the
// master's last writes while its keys carry the same epoch, so offsets would be reissued with other messages.
// The scripts therefore stamp each channel's epoch with the id of the server term that wrote it, and start a new
// epoch when the caller's id differs. The id is `run_id/master_replid` from INFO:
//   run_id         unique per redis-server process (a restart or another process changes it);
//   master_replid  renewed whenever a server becomes a master (promotion, restart), so an old master that came
//                  back as a replica and is promoted again does not match the stamps of its first term.
// A replica reports its master's replid, but its own run_id: a stale id read before a promotion still differs
// from every stamp the old master wrote. Only spurious changes are possible, and those cost a resync.
import { createHash } from "node:crypto";
import { z } from "zod";

const hex40 = z.string().regex(/^[0-9a-f]{40}$/);

function field(info: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:(.*)$`, "m").exec(info);
  return match?.[1]?.trim();
}

/**
 * The server stamp from the text of `INFO` (sections server and replication): 16 hex digits of SHA-256 over
 * `run_id/master_replid`, short enough to prefix the epoch (clients send epochs back, at most 64 characters);
 * 64 bits make an accidental match negligible. Undefined when a field is missing.
 */
export function serverIdOf(info: string): string | undefined {
  const runId = hex40.safeParse(field(info, "run_id"));
  const replid = hex40.safeParse(field(info, "master_replid"));
  if (!runId.success || !replid.success) return undefined;
  return createHash("sha256").update(`${runId.data}/${replid.data}`).digest("hex").slice(0, 16);
}
