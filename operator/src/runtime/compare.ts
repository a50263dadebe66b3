// Generic comparison of a rendered object with what the API server holds: a deep subset (the server adds
// defaults) where resource quantities and int-or-string values compare by value, not by spelling.

const QUANTITY_SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a resource quantity, or undefined for anything else. */
export function quantityValue(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(v);
  return m ? Number(m[1]) * QUANTITY_SUFFIX[m[2] ?? ""]! : undefined;
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // The API server canonicalizes quantities ("1000m" is stored as "1", "1024Mi" as "1Gi").
  const qa = quantityValue(a);
  const qb = quantityValue(b);
  if (qa !== undefined && qb !== undefined && typeof a === "string" && typeof b === "string") {
    return Math.abs(qa - qb) <= 1e-9 * Math.max(1, Math.abs(qa));
  }
  // int-or-string fields (ports, quantities) may come back in the other form.
  return (
    (typeof a === "number" || typeof a === "string") &&
    (typeof b === "number" || typeof b === "string") &&
    String(a) === String(b)
  );
}

/** True when every field of `desired` is present in `live` with the same value (the server may add defaults). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) && desired.length === live.length && desired.every((d, i) => isSubset(d, live[i]))
    );
  }
  if (desired !== null && typeof desired === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
    return Object.entries(desired).every(
      ([k, v]) => v === undefined || isSubset(v, (live as Record<string, unknown>)[k]),
    );
  }
  return sameScalar(desired, live);
}

/** True when every label of `selector` (matchLabels) is on `labels`. */
export function matchesLabels(
  labels: Readonly<Record<string, string>> | undefined,
  selector: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
