// The admin view's charts from counters: a rate between two readings and a quantile from the change in a
// Prometheus histogram's cumulative buckets, computed as PromQL's histogram_quantile does. Pure, table-tested.

/** A histogram's cumulative bucket counts by upper bound (`le`), +Inf included. */
export type Buckets = ReadonlyArray<{ le: number; count: number }>;

/** Per second between two readings of a counter; 0 when no time passed or the counter went back (restart). */
export function ratePerSecond(before: number, after: number, seconds: number): number {
  if (seconds <= 0 || after < before) return 0;
  return (after - before) / seconds;
}

/**
 * The q-quantile (0..1) of the observations made between two readings of one histogram, interpolated linearly
 * inside the bucket it falls in. Undefined when nothing was observed in between. A quantile in the +Inf bucket
 * answers the highest finite bound (what histogram_quantile does).
 */
export function histogramQuantile(q: number, before: Buckets, after: Buckets): number | undefined {
  const prev = new Map(before.map((b) => [b.le, b.count]));
  const delta = [...after]
    .sort((a, b) => a.le - b.le)
    .map((b) => ({ le: b.le, count: Math.max(0, b.count - (prev.get(b.le) ?? 0)) }));
  const total = delta.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return lowerBound;
      const inBucket = b.count - lowerCount;
      return inBucket === 0 ? b.le : lowerBound + ((b.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = b.le;
    lowerCount = b.count;
  }
  return lowerBound;
}
