// Channel permission patterns from the JWT `channels` claim: an exact name, or a prefix ending in `*`.

/** A compiled list of patterns: exact names in a set, prefixes in a list. `*` alone allows everything. */
export interface ChannelPatterns {
  exact: ReadonlySet<string>;
  prefixes: readonly string[];
}

export const ALLOW_ALL: ChannelPatterns = { exact: new Set(), prefixes: [""] };
export const ALLOW_NONE: ChannelPatterns = { exact: new Set(), prefixes: [] };

export function compilePatterns(patterns: readonly string[]): ChannelPatterns {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith("*")) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return { exact, prefixes };
}

export function matches(patterns: ChannelPatterns, channel: string): boolean {
  if (patterns.exact.has(channel)) return true;
  for (const prefix of patterns.prefixes) if (channel.startsWith(prefix)) return true;
  return false;
}
