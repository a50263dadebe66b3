// The gateway's version: the one in the nearest package.json above this file. Searched upwards because the source
// tree (gateway/src/) and the built image (dist/gateway/src/) put it at different depths. Read once.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    try {
      const pkg = z
        .object({ version: z.string() })
        .safeParse(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")));
      if (pkg.success) return pkg.data.version;
    } catch {
      // not here: one level up
    }
    dir = dirname(dir);
  }
  return "unknown";
}

export const GATEWAY_VERSION: string = readVersion();
