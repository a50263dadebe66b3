// What a setting may be: one rule per kind of value, shared by the gateway's RTGW_* variables, the operator's
// settings and every `rtgw` flag, so "a port" or "a switch" means the same everywhere. A rule says what the value
// must be and what it got; the parser (parse.ts) puts the setting's name in front, so every error reads
// `<name> must be <allowed> (got <value>)`. Values are strings (env, argv) or, for defaults, already typed.
import { z } from "zod";

export interface RuleOptions {
  /** A credential: the message gives its length, never the value. */
  secret?: boolean;
}

/** The value as a message shows it; credentials in a URL's user part are masked wherever they appear. */
export function shown(input: unknown, options: RuleOptions = {}): string {
  if (typeof input !== "string") return String(input);
  if (options.secret) return `${input.length} characters`;
  return JSON.stringify(input.replace(/\/\/[^/@\s]*@/g, "//***@"));
}

/** The message of every issue a rule raises: what it allows, and the value it got. */
export const mustBe =
  (allowed: string, options: RuleOptions = {}) =>
  (issue: { input?: unknown }): string =>
    `must be ${allowed} (got ${shown(issue.input, options)})`;

/**
 * A rule's zod parameters. `abort`: a bad value stops the parse before the cross-setting rules, which would
 * otherwise reason about a value already reported as wrong.
 */
export const rule = (allowed: string, options: RuleOptions = {}) => ({
  error: mustBe(allowed, options),
  abort: true,
});

// Plain decimal only: Number() would also take "", " ", "0x10" and "Infinity".
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

interface Range {
  min: number;
  /** Unbounded above when left out. */
  max?: number;
  /** `min` itself is excluded ("above 0"). */
  above?: boolean;
  /** What the number counts ("seconds"): "a number of seconds between …". */
  unit?: string;
}

function describe(integer: boolean, { min, max, above, unit }: Range): string {
  const noun = unit
    ? `${integer ? "a whole number" : "a number"} of ${unit}`
    : integer
      ? "an integer"
      : "a number";
  if (above) return max === undefined ? `${noun} above ${min}` : `${noun} above ${min} and at most ${max}`;
  if (max !== undefined) return `${noun} between ${min} and ${max}`;
  return unit ? `${noun}, at least ${min}` : `${noun} of at least ${min}`;
}

function numeric(integer: boolean, range: Range, allowed = describe(integer, range)) {
  const params = rule(allowed);
  const { min, max = Number.POSITIVE_INFINITY, above = false } = range;
  return z
    .union([z.number(), z.string().trim().regex(DECIMAL).transform(Number)], params)
    .refine(
      (n) =>
        Number.isFinite(n) && (!integer || Number.isInteger(n)) && (above ? n > min : n >= min) && n <= max,
      params,
    );
}

/** An integer in [min, max] (max left out: no upper bound). */
export const integer = (min: number, max?: number, unit?: string) =>
  numeric(true, { min, ...(max !== undefined ? { max } : {}), ...(unit ? { unit } : {}) });

/** A finite number in [min, max]; `above` excludes min. */
export const number = (range: Range) => numeric(false, range);

/** A duration in seconds (fractions allowed). */
export const seconds = (range: Omit<Range, "unit">) => numeric(false, { ...range, unit: "seconds" });

/** A fraction in (0, 1]. */
export const fraction = () => numeric(false, { min: 0, max: 1, above: true });

/** A TCP port; 0 asks the system for a free one. */
export const port = () => numeric(true, { min: 0, max: 65535 }, "an integer port between 0 and 65535");

/** A switch: true/false from a default or a bare flag, "true", "false", "1" or "0" from env or argv. */
export function boolean() {
  return z.union(
    [z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")],
    rule("true, false, 1 or 0"),
  );
}

/** One of a fixed set of words. */
export function choice<const T extends readonly [string, ...string[]]>(choices: T) {
  return z.enum(choices, rule(`one of ${choices.join(", ")}`));
}

/** A non-empty string matching `pattern`, whose shape `allowed` names. */
export function text(allowed: string, pattern: RegExp = /\S/, options: RuleOptions = {}) {
  const params = rule(allowed, options);
  return z.string(params).regex(pattern, params);
}

/** An absolute URL with one of `protocols` (e.g. ["https:"]); `allowed` describes it. */
export function url(
  protocols: readonly [string, ...string[]],
  allowed = `a ${protocols.map((p) => `${p}//`).join(" or ")} URL`,
) {
  const params = rule(allowed);
  return z.string(params).refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, params);
}

/** A comma list (repeated flags already joined) of distinct members of `choices`; at least one. */
export function list<const T extends readonly [string, ...string[]]>(choices: T) {
  const params = rule(`a comma-separated list of distinct values from ${choices.join(", ")}`);
  const items = (s: string) => s.split(",").map((v) => v.trim());
  const allowed: readonly string[] = choices;
  return z
    .string(params)
    .refine(
      (s) => items(s).every((v) => allowed.includes(v)) && new Set(items(s)).size === items(s).length,
      params,
    )
    .transform(items)
    .pipe(z.array(z.enum(choices))); // cannot fail after the check above; it gives the members' type
}

/** A comma list of free-form items (e.g. allowed origins), each passing `test`; at least one, blanks dropped. */
export function commaList(allowed: string, test: (item: string) => boolean) {
  const params = rule(allowed);
  const items = (s: string) =>
    s
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
  return z
    .string(params)
    .refine((s) => items(s).length > 0 && items(s).every(test), params)
    .transform(items);
}
