// Which browser origins may open a WebSocket (against cross-site WebSocket hijacking: a page elsewhere riding on
// the user's cookies or ambient credentials). Pure; server.ts answers 403 to the rest.

/** A pattern is an exact origin (`https://app.example.com`) or a subdomain wildcard (`https://*.example.com`). */
export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  const o = origin.toLowerCase();
  for (const raw of patterns) {
    const p = raw.toLowerCase();
    if (p === o) return true;
    const star = p.indexOf("://*.");
    if (star < 0) continue;
    const scheme = p.slice(0, star + 3); // "https://"
    const suffix = p.slice(star + 4); // ".example.com" or ".example.com:8443"
    if (!o.startsWith(scheme)) continue;
    const rest = o.slice(scheme.length); // "a.example.com[:port]"
    // At least one label before the suffix, and nothing after it: no port smuggled in, no lookalike domain.
    if (
      rest.length > suffix.length &&
      rest.endsWith(suffix) &&
      /^[a-z0-9.-]+$/.test(rest.slice(0, -suffix.length))
    )
      return true;
  }
  return false;
}

/**
 * The upgrade's Origin decision. No header means no browser (browsers always send one on a WebSocket upgrade,
 * and other clients could send any value anyway): allowed. Unset patterns: no check.
 */
export function upgradeOriginAllowed(origin: string, patterns: readonly string[] | undefined): boolean {
  if (patterns === undefined || origin === "") return true;
  return originAllowed(origin, patterns);
}
