// For the channel namespace tests (memory and Redis): one RTGW_CONFIG file declaring a namespace per rule, written
// to a temporary directory, and tokens with chosen channel rights.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { API_SECRET } from "./server-api-support.js";

/** One namespace per rule under test; `chat` has every default. */
export const NAMESPACES_YAML = `
# channels without a colon (lobby) get these
default: {}
namespaces:
  chat: {}
  open: { subscribe: anyone }
  feed: { publish: server }
  live: { recovery: false }
  bare: { historySize: 0 }
  small: { historySize: 3 }
  brief: { historyTtlSeconds: 7 }
  quiet: { presence: false }
  silent: { joinLeave: false }
`;

export interface TempConfig {
  path: string;
  remove(): void;
}

/** Write `text` as a config file in a fresh temporary directory. */
export function writeConfig(text: string, name = "rtgw.yaml"): TempConfig {
  const dir = mkdtempSync(join(tmpdir(), "rtgw-ns-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A token for `sub` with exactly these channel rights (patterns as in the JWT `channels` claim). */
export function tokenWith(
  sub: string,
  rights: { subscribe?: string[]; publish?: string[] },
  expiresIn = "10m",
): Promise<string> {
  return new SignJWT({ sub, channels: { subscribe: rights.subscribe ?? [], publish: rights.publish ?? [] } })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(API_SECRET));
}
