// Nothing the image or the package's bin ships imports test code: every .ts file in the folders tsconfig.json
// compiles is parsed (TypeScript's own pre-processor: static, type-only and dynamic imports, re-exports,
// require), and each relative import must stay inside those folders and out of every test folder. A harness that
// strays into the shipped tree breaks the image build (TS2307 in the Dockerfile's `tsc`) and ships test code.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { z } from "zod";
import { isTestPath, ROOT, shippedFolders, sourceOf, strayImports, typescriptFiles } from "./shipped.js";

const SHIPPED = ["cli", "protocol", "gateway/src", "client/src", "loadtest/src", "dev-cluster"];

describe("which imports leave the shipped tree (pure)", () => {
  test("test folders: test/, test-support/, and any */test/ or */test-support/", () => {
    const table: Array<[string, boolean]> = [
      ["test/e2e/run.ts", true],
      ["test-support/ports.ts", true],
      ["operator/test/helpers.ts", true],
      ["operator/test-support/fake.ts", true],
      ["client/test/helpers.ts", true],
      ["loadtest/src/load/plan.ts", false],
      ["gateway/src/tester.ts", false],
      ["protocol/index.ts", false],
    ];
    for (const [path, expected] of table) assert.equal(isTestPath(path), expected, path);
  });

  test("every import form is seen; packages and imports inside the shipped folders pass", () => {
    const source = [
      'import { a } from "../../../test-support/wait.js";',
      'import type { B } from "../../../operator/test/helpers.js";',
      'export { c } from "../../../test/e2e/run.js";',
      'const d = await import("../../../client/test/helpers.js");',
      'const e = require("../../../charts/values.js");',
      'import { f } from "./plan.js";',
      'import { g } from "../../../protocol/index.js";',
      'import { z } from "zod";',
      'import { readFileSync } from "node:fs";',
    ].join("\n");
    const stray = strayImports("loadtest/src/load/file.ts", source, SHIPPED);
    assert.deepEqual(
      stray.map((v) => [v.resolved, v.kind]),
      [
        ["test-support/wait.js", "test code"],
        ["operator/test/helpers.js", "test code"],
        ["test/e2e/run.js", "test code"],
        ["client/test/helpers.js", "test code"],
        ["charts/values.js", "not shipped"],
      ],
    );
    assert.deepEqual(stray[0], {
      file: "loadtest/src/load/file.ts",
      specifier: "../../../test-support/wait.js",
      resolved: "test-support/wait.js",
      kind: "test code",
    });
  });
});

describe("the shipped tree", () => {
  const shipped = shippedFolders();

  test("tsconfig.json compiles no test folder", () => {
    assert.deepEqual(shipped.filter(isTestPath), []);
  });

  test("the package's bin is compiled from a shipped folder", () => {
    const bin = z
      .object({ bin: z.record(z.string(), z.string()) })
      .parse(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"))).bin;
    for (const [name, path] of Object.entries(bin)) {
      const source = sourceOf(path);
      assert.ok(
        shipped.some((dir) => source.startsWith(`${dir}/`)),
        `bin ${name} (${source}) is in none of ${shipped.join(", ")}`,
      );
    }
  });

  test("no shipped file imports test code or anything outside the shipped folders", () => {
    const files = shipped.flatMap((dir) => typescriptFiles(dir));
    assert.ok(files.length > 100, `read ${files.length} files`);
    const stray = files.flatMap((file) =>
      strayImports(file, readFileSync(join(ROOT, file), "utf8"), shipped),
    );
    assert.deepEqual(
      stray.map((v) => `${v.file} imports ${v.specifier} (${v.kind}: ${v.resolved})`),
      [],
    );
  });
});
