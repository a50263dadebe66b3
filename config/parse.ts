// Settings in, typed values or sentences out: argv (through commander) and environment variables go through
// the same zod rules (rules.ts), and every failure becomes one sentence naming the flag or variable. Pure, except
// orExit: the one shell that prints those sentences and exits 2 (a usage error) for every `rtgw` command.
import type { z } from "zod";

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/**
 * Each issue as one sentence: a rule's ("must be …", "is required …") after the name of the setting it is
 * about (the first step of its path); a cross-setting one (no path) as it is. Each sentence once, in order.
 */
function sentences(issues: readonly z.core.$ZodIssue[], nameOf: (key: string) => string): string[] {
  const all = issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${nameOf(String(issue.path[0]))} ${issue.message}`,
  );
  return [...new Set(all)];
}

const kebab = (attribute: string) => attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Commander's option values (attribute names: --ramp-seconds → rampSeconds). A setting is named `--<flag>`
 * unless `names` says otherwise (e.g. "--namespace (RTGW_OPERATOR_NAMESPACE)", or a variable read beside them).
 */
export function parseFlags<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  names: Readonly<Record<string, string>> = {},
): Parsed<z.output<S>> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: sentences(parsed.error.issues, (key) => names[key] ?? `--${kebab(key)}`) };
}

// RTGW_METRICS_PORT → metricsPort, at run time and in the types, so a variable is declared once (its schema key).
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<Camel<Tail>>}`
  : Lowercase<S>;
/** A schema's output keyed by field name: the variable's name without `prefix`, in camelCase. */
export type Fields<T, P extends string> = {
  [K in keyof T as K extends `${P}${infer Rest}` ? Camel<Rest> : never]: T[K];
};
export const fieldName = (variable: string, prefix: string): string =>
  variable
    .slice(prefix.length)
    .toLowerCase()
    .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Environment variables: the schema's keys are the variables' names, all starting with `prefix`; the value
 * comes back keyed by field name. An empty variable counts as unset, as it does for most tools reading env.
 */
export function parseEnv<S extends z.ZodObject, P extends string>(
  schema: S,
  prefix: P,
  env: Readonly<Record<string, string | undefined>>,
): Parsed<Fields<z.output<S>, P>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: sentences(parsed.error.issues, (key) => key) };
  const value: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(parsed.data as Record<string, unknown>))
    value[fieldName(key, prefix)] = v;
  return { ok: true, value: value as Fields<z.output<S>, P> };
}

/** Variables that start with `prefix` but are none of the schema's (a typo, or a setting this version lacks). */
export function unknownVariables(
  schema: z.ZodObject,
  prefix: string,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  return Object.keys(env)
    .filter((key) => key.startsWith(prefix) && !Object.hasOwn(schema.shape, key))
    .sort();
}

/** The I/O shell: print `<program>: <sentence>` per error and a hint, then exit 2; or return the value. */
export function orExit<T>(
  program: string,
  result: Parsed<T>,
  hint = `${program} --help lists every flag`,
): T {
  if (result.ok) return result.value;
  for (const error of result.errors) process.stderr.write(`${program}: ${error}\n`);
  process.stderr.write(`(${hint})\n`);
  process.exit(2);
}

/** Several parses as one: every value, or every error of every part (so one run reports all of them). */
export function allOf<T extends Record<string, unknown>>(parts: { [K in keyof T]: Parsed<T[K]> }): Parsed<T> {
  const errors: string[] = [];
  const value: Record<string, unknown> = {};
  for (const [key, part] of Object.entries(parts) as [string, Parsed<unknown>][]) {
    if (part.ok) value[key] = part.value;
    else errors.push(...part.errors);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: value as T };
}

/** The names commander's options go by in errors: `--flag`, or `--flag (VARIABLE)` when a variable sets it too. */
export function optionNames(
  options: readonly { attributeName(): string; long?: string | undefined; envVar?: string | undefined }[],
): Record<string, string> {
  return Object.fromEntries(
    options.map((o) => [o.attributeName(), o.envVar ? `${o.long} (${o.envVar})` : `${o.long}`]),
  );
}
