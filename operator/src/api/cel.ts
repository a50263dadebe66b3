// CEL rules as the CRD carries them (`x-kubernetes-validations`), each with a TypeScript twin that must agree: the
// API server enforces the rule, the twin catches a CR that slipped past it (an old CRD, a disabled validation).

/** A CEL rule as the CRD carries it, plus a TypeScript predicate that must agree with it. */
export interface CelRule<T> {
  rule: string;
  message: string;
  check: (self: T) => boolean;
}

/** The CRD's `x-kubernetes-validations` entry (the predicates stay in code). */
export function cel(...lists: CelRule<never>[][]): {
  "x-kubernetes-validations": { rule: string; message: string }[];
} {
  return { "x-kubernetes-validations": lists.flat().map(({ rule, message }) => ({ rule, message })) };
}

/** A JavaScript regular expression as a CEL string literal for `matches` (RE2 reads the same syntax here). */
export function celPattern(re: RegExp): string {
  return `'${re.source.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}
