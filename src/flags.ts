// Flag rules shared by the `rtgw` subcommands. Commander parses argv (and env, where an option has one) into
// strings; a zod schema per subcommand validates the result. Every rule carries its whole message (the flag,
// what it allows, what it got), so a failed parse reads as a list of sentences and the command exits 2.
import { z } from "zod";

export type FlagResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const shown = (input: unknown): string => (typeof input === "string" ? JSON.stringify(input) : String(input));

/** The message of every issue a flag can raise: its name, what it allows, and the value it got. */
export const says =
  (flag: string, allowed: string) =>
  (issue: { input?: unknown }): string =>
    `${flag} must be ${allowed} (got ${shown(issue.input)})`;

/**
 * The parameters of a flag's rule. `abort`: a bad flag stops the parse before the cross-flag rules, which
 * would otherwise reason about a value already reported as wrong.
 */
export const rule = (flag: string, allowed: string) => ({ error: says(flag, allowed), abort: true });

// Plain decimal only: Number() would also take "", " ", "0x10" and "Infinity".
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A number that passes `test`; commander hands a string, a default may be a number. */
function numericFlag(flag: string, allowed: string, test: (n: number) => boolean) {
  const params = rule(flag, allowed);
  return z
    .union([z.number(), z.string().trim().regex(DECIMAL).transform(Number)], params)
    .refine(test, params);
}

export const integerFlag = (flag: string, min: number, max: number) =>
  numericFlag(
    flag,
    `an integer between ${min} and ${max}`,
    (n) => Number.isInteger(n) && n >= min && n <= max,
  );

export const numberFlag = (flag: string, min: number, max: number) =>
  numericFlag(flag, `a number between ${min} and ${max}`, (n) => Number.isFinite(n) && n >= min && n <= max);

export const portFlag = (flag: string) =>
  numericFlag(
    flag,
    "an integer port between 0 and 65535",
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
  );

export function choiceFlag<const T extends readonly [string, ...string[]]>(flag: string, choices: T) {
  return z.enum(choices, rule(flag, `one of ${choices.join(", ")}`));
}

/** A switch that may also come from an environment variable (then a string). */
export function booleanFlag(flag: string) {
  return z.union(
    [z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")],
    rule(flag, "true, false, 1 or 0"),
  );
}

/** A non-empty string matching `pattern`, whose shape `allowed` names. */
export function textFlag(flag: string, allowed: string, pattern: RegExp = /\S/) {
  return z.string(rule(flag, allowed)).regex(pattern, rule(flag, allowed));
}

/** A comma list (repeated flags already joined) of distinct members of `choices`; at least one. */
export function listFlag<const T extends readonly [string, ...string[]]>(flag: string, choices: T) {
  const params = rule(flag, `a comma-separated list of distinct values from ${choices.join(", ")}`);
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

/** Parse commander's option values; each message once, in the order of the flags. */
export function parseFlags<S extends z.ZodType>(schema: S, raw: unknown): FlagResult<z.output<S>> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: [...new Set(parsed.error.issues.map((issue) => issue.message))] };
}

/** The I/O shell: print `<program>: <message>` per error and exit 2 (a usage error), or return the value. */
export function flagsOrExit<T>(
  program: string,
  result: FlagResult<T>,
  hint = `${program} --help lists every flag`,
): T {
  if (result.ok) return result.value;
  for (const error of result.errors) process.stderr.write(`${program}: ${error}\n`);
  process.stderr.write(`(${hint})\n`);
  process.exit(2);
}
