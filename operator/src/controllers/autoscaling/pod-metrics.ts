// Reads the autoscaling signal, `rtgw_connections`, from every ready gateway pod's /metrics, concurrently and with
// a timeout per pod. A pod that does not answer in time (or answers garbage) has a missing metric: the autoscaler
// treats it the way HPA does, never as 0 connections.

export const CONNECTIONS_METRIC = "rtgw_connections";

/**
 * The sum over all series of `metric` in a Prometheus text exposition (0.0.4) or OpenMetrics body; undefined when
 * the metric is absent or a sample is not a finite number. Exact name match: `rtgw_connections_opened_total` is a
 * different metric.
 */
export function parseMetric(body: string, metric: string): number | undefined {
  let sum = 0;
  let seen = false;
  for (const raw of body.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!line.startsWith(metric)) continue;
    let rest = line.slice(metric.length);
    const next = rest.charAt(0);
    if (next === "{") {
      const end = closingBrace(rest);
      if (end < 0) return undefined;
      rest = rest.slice(end + 1);
    } else if (next !== " " && next !== "\t") {
      continue; // a longer name that merely starts with ours
    }
    // value [timestamp]
    const value = rest.trim().split(/\s+/)[0] ?? "";
    const n = Number(value);
    if (value === "" || !Number.isFinite(n)) return undefined;
    sum += n;
    seen = true;
  }
  return seen ? sum : undefined;
}

/** Index of the `}` closing the label set, skipping quoted label values (which may contain `}` and `\"`). */
function closingBrace(s: string): number {
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "}") return i;
  }
  return -1;
}

export interface ScrapeTarget {
  pod: string;
  /** host:port or [v6]:port of the metrics endpoint */
  address: string;
}

export interface ScrapeOptions {
  timeoutMs: number;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

/** Scrape every target at once; a pod maps to undefined when its metric is missing for any reason. */
export async function scrapeConnections(
  targets: readonly ScrapeTarget[],
  options: ScrapeOptions,
): Promise<Map<string, number | undefined>> {
  const doFetch = options.fetch ?? fetch;
  const results = await Promise.all(
    targets.map(async (t): Promise<[string, number | undefined]> => {
      try {
        const res = await doFetch(`http://${t.address}/metrics`, {
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        if (!res.ok) {
          await res.body?.cancel();
          return [t.pod, undefined];
        }
        return [t.pod, parseMetric(await res.text(), CONNECTIONS_METRIC)];
      } catch {
        return [t.pod, undefined];
      }
    }),
  );
  return new Map(results);
}

/** host:port for a pod IP (brackets for IPv6). */
export function podAddress(podIP: string, port: number): string {
  return podIP.includes(":") ? `[${podIP}]:${port}` : `${podIP}:${port}`;
}
