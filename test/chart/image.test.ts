// Fast checks of what would break the images, without building them (test/image builds and runs both): the code
// the images run must load with production dependencies alone, and the Dockerfile must start what package.json
// says. That the Dockerfile copies what tsconfig.json compiles is test/layout/shipped-folders.test.ts.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { build, type Metafile } from "esbuild";
import { parse } from "yaml";
import { z } from "zod";
import { CHART, ROOT } from "./support/helm.js";

const packageJson = z
  .object({
    version: z.string(),
    bin: z.record(z.string(), z.string()),
    dependencies: z.record(z.string(), z.string()),
  })
  .parse(JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")));
const tsconfig = z
  .object({ compilerOptions: z.object({ outDir: z.string() }) })
  .parse(JSON.parse(await readFile(join(ROOT, "tsconfig.json"), "utf8")));
const dockerfile = await readFile(join(ROOT, "Dockerfile"), "utf8");

/** The npm package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for a builtin. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]!)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * Every package the entry point reaches: through static imports only, or through dynamic `import()` too (what
 * a command loads when it runs). esbuild resolves the graph; packages stay external and are only named.
 */
async function packagesReached(entry: string, followDynamic: boolean): Promise<Map<string, string>> {
  const { metafile } = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "silent",
  });
  const inputs: Metafile["inputs"] = metafile.inputs;
  const reached = new Map<string, string>(); // package → the file that imports it
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imp of inputs[file]?.imports ?? []) {
      if (imp.kind === "dynamic-import" && !followDynamic) continue;
      if (imp.external) {
        const pkg = packageOf(imp.path);
        if (pkg !== undefined && !reached.has(pkg)) reached.set(pkg, file);
      } else {
        queue.push(imp.path);
      }
    }
  }
  return reached;
}

function devOnly(reached: Map<string, string>): string[] {
  return [...reached]
    .filter(([pkg]) => !(pkg in packageJson.dependencies))
    .map(([pkg, file]) => `${pkg} (${file})`);
}

describe("the images run on production dependencies alone", () => {
  test("packageOf names packages and builtins", () => {
    assert.equal(packageOf("ioredis"), "ioredis");
    assert.equal(packageOf("@kubernetes/client-node/dist/x.js"), "@kubernetes/client-node");
    assert.equal(packageOf("uWebSockets.js"), "uWebSockets.js");
    assert.equal(packageOf("node:fs"), undefined);
    assert.equal(packageOf("fs/promises"), undefined);
  });

  test("`rtgw` itself (every subcommand's static imports) loads without dev dependencies", async () => {
    assert.deepEqual(devOnly(await packagesReached("cli/rtgw.ts", false)), []);
  });

  test("`rtgw gateway`, with everything it imports at run time, needs no dev dependency", async () => {
    const reached = await packagesReached("gateway/src/main.ts", true);
    assert.ok(reached.has("uWebSockets.js"), "the graph walk found the gateway's server");
    assert.deepEqual(devOnly(reached), []);
  });

  test("`rtgw operator`, with everything it imports at run time, needs no dev dependency", async () => {
    const reached = await packagesReached("operator/src/main.ts", true);
    assert.ok(reached.has("@kubernetes/client-node"), "the graph walk found the Kubernetes client");
    assert.deepEqual(devOnly(reached), []);
  });
});

describe("Dockerfile", () => {
  test("both images start `node <package bin>` in exec form (SIGTERM reaches Node) as a numeric non-root user", () => {
    const bin = packageJson.bin.rtgw;
    assert.equal(bin, `${tsconfig.compilerOptions.outDir}/cli/rtgw.js`);
    assert.match(dockerfile, new RegExp(`^ENTRYPOINT \\["node", "${bin}"\\]$`, "m"));
    assert.match(dockerfile, /^USER [1-9][0-9]*:[0-9]+$/m);
    assert.match(dockerfile, /^FROM node:20-bookworm-slim|^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    const targets = [...dockerfile.matchAll(/^FROM \S+ AS (\w+)$/gm)].map((m) => m[1]);
    assert.ok(targets.includes("gateway") && targets.includes("operator"), targets.join(","));
    for (const [target, cmd] of [
      ["operator", "operator"],
      ["gateway", "gateway"],
    ] as const) {
      const stage = dockerfile.split(/^FROM /m).find((s) => s.match(new RegExp(`^\\S+ AS ${target}$`, "m")));
      assert.match(stage ?? "", new RegExp(`^CMD \\["${cmd}"\\]$`, "m"), `${target} stage runs ${cmd}`);
    }
  });

  test("the chart's appVersion is the package version, so default image tags match `make images`", async () => {
    const chart = z
      .object({ appVersion: z.string() })
      .parse(parse(await readFile(join(CHART, "Chart.yaml"), "utf8")));
    assert.equal(chart.appVersion, packageJson.version);
  });
});
