// The I/O edge of RTGW_CONFIG: read the file, parse it as YAML (a superset of JSON), validate it. Every
// problem is one sentence naming the file and the field, as the RTGW_* variables' errors name the variable.
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import type { Parsed } from "../../../config/parse.js";
import { type ConfigFile, configFile } from "./schema.js";

const fieldPath = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");

function sentence(file: string, issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys")
    return `RTGW_CONFIG ${file}: ${issue.keys.map((k) => fieldPath([...issue.path, k])).join(", ")} is not an option (a typo?)`;
  const where = issue.path.length > 0 ? fieldPath(issue.path) : "the file";
  return `RTGW_CONFIG ${file}: ${where} ${issue.message}`;
}

/** The file's text to its options, or sentences naming the file (as given in RTGW_CONFIG) and each bad field. */
export function parseConfigFile(file: string, text: string): Parsed<ConfigFile> {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: false }) ?? {};
  } catch (err) {
    return { ok: false, errors: [`RTGW_CONFIG ${file}: not valid YAML or JSON (${(err as Error).message})`] };
  }
  const parsed = configFile.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: [...new Set(parsed.error.issues.map((issue) => sentence(file, issue)))] };
}

export function readConfigFile(file: string, read: (path: string) => string): Parsed<ConfigFile> {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    return { ok: false, errors: [`RTGW_CONFIG ${file}: cannot be read (${(err as Error).message})`] };
  }
  return parseConfigFile(file, text);
}
