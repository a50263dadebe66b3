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
import { Cluster, type Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import type { Connections } from "./connections.js";

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

/**
 * The server id of each command connection's server: "main" in standalone/sentinel mode, the node key (host:port)
 * of each master in cluster mode. Set only from an INFO that said role:master, dropped when the connection closes
 * or the node stops owning slots; no id, no script (publishes get `unavailable`).
 */
export class ServerIds {
  private readonly ids = new Map<string, string>();
  /** Per connection key, the number of the latest INFO read; a reply from an older read is ignored. */
  private readonly reads = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly connections: Connections,
    private readonly log: Logger,
    private readonly isClosed: () => boolean,
    /** An id was read (it may be the same, or none). */
    private readonly changed: () => void,
  ) {}

  get(key: string): string | undefined {
    return this.ids.get(key);
  }

  has(key: string): boolean {
    return this.ids.has(key);
  }

  /** A copy of the ids known now. */
  snapshot(): Map<string, string> {
    return new Map(this.ids);
  }

  /** Read the missing ids (`all`: every id again). */
  readAll(all: boolean): void {
    if (this.isClosed() || !this.connections.commandReady()) return;
    for (const key of this.connections.serverKeys()) {
      if (!all && this.ids.has(key)) continue;
      const connection = this.connections.connectionOf(key);
      if (connection) this.read(key, connection);
    }
  }

  read(key: string, connection: Redis | Cluster): void {
    if (this.isClosed() || this.inFlight.has(key) || connection instanceof Cluster) return;
    const read = (this.reads.get(key) ?? 0) + 1;
    this.reads.set(key, read);
    this.inFlight.add(key);
    connection.info().then(
      (info) => {
        this.inFlight.delete(key);
        if (this.reads.get(key) !== read) return;
        const id = /^role:master\s*$/m.test(info) ? serverIdOf(info) : undefined;
        const previous = this.ids.get(key);
        if (id === undefined) this.ids.delete(key);
        else this.ids.set(key, id);
        if (id !== previous) this.log.info({ server: key, id: id ?? null }, "redis server id");
        this.changed();
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        this.log.debug({ server: key, err: String(error) }, "redis server id not read");
      },
    );
  }

  forget(key: string): void {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
    this.inFlight.delete(key);
    this.ids.delete(key);
  }

  /** Cluster: forget the ids of nodes that stopped owning slots (a replica now: read its id again first). */
  forgetAllBut(owners: ReadonlySet<string>): void {
    for (const key of [...this.ids.keys()]) if (!owners.has(key)) this.forget(key);
  }
}
