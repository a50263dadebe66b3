// The fleet's node registry: each node writes its heartbeat (its NodeReport, JSON) under its own key with a TTL
// and its expiry into one sorted set; a node that stops (SIGKILL, lost network) drops out when the TTL passes.
// Readers skip and prune entries past their expiry, so a dead node's stale score never shows.
import { z } from "zod";
import type { NodeReport } from "../broker.js";
import { type Connections, unavailable } from "./connections.js";
import { NODES_KEY, nodeKey } from "./keys.js";

const nodeReport = z.object({
  node: z.string(),
  version: z.string(),
  startedAt: z.number(),
  connections: z.number(),
  channels: z.record(z.string(), z.number()),
});

export class NodeRegistry {
  constructor(private readonly connections: Connections) {}

  async report(report: NodeReport, ttlMs: number): Promise<void> {
    const command = this.connections.readyCommand();
    const expiresAt = Date.now() + ttlMs;
    try {
      // Two keys in two slots (cluster): two commands, the heartbeat first so a listed node has one.
      await command.set(nodeKey(report.node), JSON.stringify(report), "PX", ttlMs);
      await command.zadd(NODES_KEY, expiresAt, report.node);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async list(): Promise<NodeReport[]> {
    const command = this.connections.readyCommand();
    const now = Date.now();
    try {
      // Prune the dead (their heartbeat keys expired on their own); the rest are read one by one (cluster slots).
      await command.zremrangebyscore(NODES_KEY, "-inf", now);
      const ids = await command.zrangebyscore(NODES_KEY, now, "+inf");
      const texts = await Promise.all(ids.map((id) => command.get(nodeKey(id))));
      const reports: NodeReport[] = [];
      for (const text of texts) {
        if (text === null) continue;
        try {
          const parsed = nodeReport.safeParse(JSON.parse(text));
          if (parsed.success) reports.push(parsed.data);
        } catch {
          // A malformed heartbeat is skipped: the registry is advisory.
        }
      }
      return reports;
    } catch (error) {
      throw unavailable(error);
    }
  }
}
