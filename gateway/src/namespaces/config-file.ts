// The I/O edge of RTGW_CONFIG: read the file, parse it as YAML (a superset of JSON), validate it. Every
// problem is one sentence naming the file and the field, as the RTGW_* variables' errors name the variable.
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import type { Parsed } from "../../../config/parse.js";
import { type ConfigFile, configFile, type HookOptions } from "./schema.js";

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
  const parsed = parseConfigFile(file, text);
  return parsed.ok ? readHeaderFiles(file, parsed.value, read) : parsed;
}

/**
 * Each hook's `headerFiles` read into its `headers` (one trailing newline dropped, as `kubectl create secret
 * --from-file` keeps it). A file that cannot be read, or whose value is no header value, is an error naming it.
 */
function readHeaderFiles(
  file: string,
  options: ConfigFile,
  read: (path: string) => string,
): Parsed<ConfigFile> {
  const errors: string[] = [];
  const proxy: ConfigFile["proxy"] = {};
  for (const [hook, hookOptions] of Object.entries(options.proxy) as [
    keyof ConfigFile["proxy"],
    HookOptions,
  ][]) {
    const headers = { ...hookOptions.headers };
    for (const [header, path] of Object.entries(hookOptions.headerFiles)) {
      const where = `RTGW_CONFIG ${file}: ${fieldPath(["proxy", hook, "headerFiles", header])}`;
      let value: string;
      try {
        value = read(path).replace(/\r?\n$/, "");
      } catch (err) {
        errors.push(`${where}: ${path} cannot be read (${(err as Error).message})`);
        continue;
      }
      if (value.length === 0 || value.length > 4096 || /[\r\n\0]/.test(value))
        errors.push(`${where}: ${path} does not hold one header value (1-4096 characters, one line)`);
      else headers[header] = value;
    }
    proxy[hook] = { ...hookOptions, headers };
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { ...options, proxy } };
}
