// This node in the fleet's node registry: a heartbeat every third of RTGW_NODE_TTL_SECONDS (so one lost write
// does not drop it), and the pure folds the server API answers `info` and `channels` with. The answering node
// uses its live figures instead of its last heartbeat, so its own changes show at once.
import type { Logger } from "pino";
import type { NodeInfo } from "../../../protocol/server-api.js";
import type { Broker, NodeReport } from "../broker/broker.js";
import { compilePatterns, matches } from "../channel-patterns.js";

export interface Heartbeat {
  stop(): void;
}

export function startHeartbeat(o: {
  broker: Broker;
  ttlMs: number;
  snapshot: () => NodeReport;
  logger: Logger;
}): Heartbeat {
  let failing = false;
  let registered = false;
  let timer: NodeJS.Timeout | undefined;
  // While the broker is down there is nothing to write to (its health is logged already). Until the first write
  // lands the node retries every 500 ms, so it shows in the fleet soon after it starts.
  const beat = async () => {
    if (o.broker.healthy()) {
      try {
        await o.broker.reportNode(o.snapshot(), o.ttlMs);
        registered = true;
        failing = false;
      } catch (err) {
        if (!failing) o.logger.warn({ err: (err as Error).message }, "node heartbeat failed; retrying");
        failing = true;
      }
    }
    if (stopped) return;
    timer = setTimeout(beat, registered ? Math.max(500, Math.floor(o.ttlMs / 3)) : 500);
    timer.unref();
  };
  let stopped = false;
  void beat();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The registry's reports with this node's entry replaced by its live one (added if not yet written). */
export function withLive(reports: readonly NodeReport[], live: NodeReport): NodeReport[] {
  return [...reports.filter((r) => r.node !== live.node), live].sort((a, b) =>
    a.node < b.node ? -1 : a.node > b.node ? 1 : 0,
  );
}

export function nodeInfo(report: NodeReport, now: number): NodeInfo {
  return {
    node: report.node,
    version: report.version,
    uptimeSeconds: Math.max(0, Math.round((now - report.startedAt) / 1000)),
    connections: report.connections,
    channels: Object.keys(report.channels).length,
  };
}

/**
 * Subscribers per channel summed over the nodes, filtered by `pattern` (exact or `prefix*`), busiest first, at
 * most `limit`.
 */
export function fleetChannels(
  reports: readonly NodeReport[],
  pattern: string | undefined,
  limit: number,
): Array<{ channel: string; subscribers: number }> {
  const filter = pattern === undefined ? undefined : compilePatterns([pattern]);
  const sums = new Map<string, number>();
  for (const report of reports)
    for (const [channel, count] of Object.entries(report.channels)) {
      if (count <= 0 || (filter && !matches(filter, channel))) continue;
      sums.set(channel, (sums.get(channel) ?? 0) + count);
    }
  return [...sums]
    .map(([channel, subscribers]) => ({ channel, subscribers }))
    .sort((a, b) => b.subscribers - a.subscribers || (a.channel < b.channel ? -1 : 1))
    .slice(0, limit);
}
