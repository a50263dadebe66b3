// Where a system's idle socket's JS heap goes: two heap snapshots of one server process (after a warm-up base,
// then with N more idle subscribed connections), diffed per object kind and divided by N. Run as a process:
//   node --import tsx loadtest/src/bench/heap-per-socket.ts [rtgw|uws] [N]
// Prints one line per kind (bytes and objects per socket), largest first. A measuring tool, not a bench row.
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { closePool, sleep } from "./load-pool.js";
import { type ServerProcess, type SystemName, startSystem } from "./processes.js";
import { openIdle } from "./scenarios.js";

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Self size and count per "type name" of every node in a snapshot. */
export function kindsOf(snapshot: Snapshot): Map<string, { bytes: number; count: number }> {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const kinds = new Map<string, { bytes: number; count: number }>();
  const edgeFields = snapshot.snapshot.meta.edge_fields;
  const edgeTypes = snapshot.snapshot.meta.edge_types[0];
  const [edgeTypeAt, edgeNameAt, toAt] = ["type", "name_or_index", "to_node"].map((f) =>
    edgeFields.indexOf(f),
  );
  const countAt = fields.indexOf("edge_count");
  let edge = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const edges = snapshot.nodes[i + countAt] as number;
    const props: string[] = [];
    for (let e = 0; e < edges; e++, edge += edgeFields.length) {
      const et = edgeTypes[snapshot.edges[edge + (edgeTypeAt as number)] as number];
      const en = snapshot.edges[edge + (edgeNameAt as number)] as number;
      if (et === "property" || et === "internal") {
        const to = snapshot.edges[edge + (toAt as number)] as number;
        const toType = types[snapshot.nodes[to + (typeAt as number)] as number];
        props.push(`${snapshot.strings[en]}:${toType?.slice(0, 3)}`);
      }
    }
    const type = types[snapshot.nodes[i + (typeAt as number)] as number] ?? "?";
    const rawName = snapshot.strings[snapshot.nodes[i + (nameAt as number)] as number] ?? "?";
    // Strings and numbers are named by their value: group them by type only.
    const name = type === "string" || type === "number" || type === "concatenated string" ? "" : rawName;
    const shape =
      type === "object" || type === "hidden" || type === "closure"
        ? ` {${props.slice(0, 16).join(",")}}`
        : "";
    const key = `${type} ${name.slice(0, 60)}${shape}`;
    const kind = kinds.get(key) ?? { bytes: 0, count: 0 };
    kind.bytes += snapshot.nodes[i + (sizeAt as number)] as number;
    kind.count += 1;
    kinds.set(key, kind);
  }
  return kinds;
}

/** SIGUSR2 (the server runs with --heapsnapshot-signal) and wait for the new snapshot file to be complete. */
async function snapshotOf(server: ServerProcess, dir: string): Promise<Snapshot> {
  const before = new Set((await readdir(dir)).filter((f) => f.endsWith(".heapsnapshot")));
  process.kill(server.pid, "SIGUSR2");
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await sleep(1_000);
    const fresh = (await readdir(dir)).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (!fresh) continue;
    const file = path.join(dir, fresh);
    const size = (await stat(file)).size;
    await sleep(1_000);
    if ((await stat(file)).size !== size) continue;
    try {
      const parsed = JSON.parse(await readFile(file, "utf8")) as Snapshot;
      await rm(file);
      return parsed;
    } catch {
      // still being written
    }
  }
  throw new Error("no heap snapshot within 120 s");
}

async function main(): Promise<void> {
  const system = (process.argv[2] ?? "rtgw") as SystemName;
  const n = Number(process.argv[3] ?? "10000");
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
  const server = await startSystem(system, undefined, { NODE_OPTIONS: "--heapsnapshot-signal=SIGUSR2" });
  try {
    const open = (connections: number, firstWorker: number) =>
      openIdle(system, server, connections, firstWorker);
    await closePool(await open(1_000, 0));
    const base = await open(1_000, 0);
    const a = kindsOf(await snapshotOf(server, dir));
    const rssA = server.rss();
    const measured = await open(n, 1);
    // Past the gateway's rate-limit sweep (every second), as an idle socket is.
    await sleep(7_000);
    const b = kindsOf(await snapshotOf(server, dir));
    const rssB = server.rss();
    await closePool(measured);
    await closePool(base);
    const rows = [...b].map(([key, kb]) => {
      const ka = a.get(key) ?? { bytes: 0, count: 0 };
      return { key, bytes: (kb.bytes - ka.bytes) / n, count: (kb.count - ka.count) / n };
    });
    rows.sort((x, y) => y.bytes - x.bytes);
    let total = 0;
    for (const r of rows) total += r.bytes;
    for (const r of rows.filter((r) => Math.abs(r.bytes) >= 2))
      process.stdout.write(
        `${r.bytes.toFixed(1).padStart(8)} B ${r.count.toFixed(2).padStart(6)}/socket  ${r.key}\n`,
      );
    process.stdout.write(
      `${total.toFixed(1).padStart(8)} B heap per socket in all; RSS ${((rssB - rssA) / n).toFixed(0)} B per socket\n`,
    );
  } finally {
    await server.stop();
  }
}

await main();
process.exit(0);
