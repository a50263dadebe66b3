// What ships, read from the files that decide it: the folders tsconfig.json compiles (dist/, the package's bin,
// the images), the folders the Dockerfile copies into its build and the ones .dockerignore lets through; and,
// as a pure core, which imports of shipped files leave them (into test code, or anywhere the build lacks).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { z } from "zod";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The folders tsconfig.json compiles: everything `npm run build`, the bin and the images ship. */
export function shippedFolders(root = ROOT): string[] {
  const tsconfig = z
    .object({ include: z.array(z.string()) })
    .parse(JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")));
  return tsconfig.include.map((dir) => dir.replace(/\/$/, ""));
}

/** True for a repository path inside test code: a `test` or `test-support` folder at any depth. */
export function isTestPath(path: string): boolean {
  return path.split("/").some((segment) => segment === "test" || segment === "test-support");
}

export interface Violation {
  file: string;
  specifier: string;
  resolved: string;
  /**
   * "test code": into a test folder; "not shipped": outside every shipped folder and not package.json (which the
   * build copies), so the image build lacks it.
   */
  kind: "test code" | "not shipped";
}

/**
 * Every import of `source` (static, type-only, dynamic `import()`, `export … from`, `require`) that leaves the
 * shipped folders, naming the ones that reach test code. `file` is the importer's repository path (posix); bare
 * specifiers name packages and are skipped.
 */
export function strayImports(file: string, source: string, shipped: readonly string[]): Violation[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  const violations: Violation[] = [];
  for (const { fileName: specifier } of importedFiles) {
    if (!specifier.startsWith(".") && !specifier.startsWith("/")) continue;
    const resolved = posix.normalize(posix.join(posix.dirname(file), specifier));
    if (isTestPath(resolved)) violations.push({ file, specifier, resolved, kind: "test code" });
    else if (resolved !== "package.json" && !shipped.some((dir) => resolved.startsWith(`${dir}/`)))
      violations.push({ file, specifier, resolved, kind: "not shipped" });
  }
  return violations;
}

/** Every .ts file below `folder` (a repository path), as repository paths. */
export function typescriptFiles(folder: string, root = ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== "node_modules") walk(path);
      else if (entry.isFile() && /\.(c|m)?tsx?$/.test(entry.name)) out.push(path);
    }
  };
  walk(folder);
  return out.sort();
}

/** `dist/cli/rtgw.js` → `cli/rtgw.ts`: the source of a compiled path under the tsconfig outDir. */
export function sourceOf(compiled: string, outDir = "dist"): string {
  return relative(outDir, compiled).split(sep).join("/").replace(/\.js$/, ".ts");
}

/** What the Dockerfile's build copies from the context (COPY lines without --from), split into folders and files. */
export function dockerfileCopies(dockerfile: string, isFolder: (path: string) => boolean) {
  const sources = [...dockerfile.matchAll(/^COPY\s+(?!--from)(?:--\S+\s+)*(.+)$/gm)].flatMap((m) => {
    const words = (m[1] ?? "").trim().split(/\s+/);
    return words.slice(0, -1); // the last word is the destination
  });
  return {
    folders: sources.filter(isFolder).map((s) => s.replace(/\/$/, "")),
    files: sources.filter((s) => !isFolder(s)),
  };
}

/** What .dockerignore (`**` then `!path` and `!folder/**` exceptions) lets into the build context. */
export function dockerignoreAllows(dockerignore: string) {
  const lines = dockerignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const allowed = lines.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
  return {
    excludesAllFirst: lines[0] === "**",
    folders: allowed.filter((l) => l.endsWith("/**")).map((l) => l.slice(0, -3)),
    files: allowed.filter((l) => !l.endsWith("/**")),
  };
}
