// One list of shipped folders, three places that must agree: tsconfig.json's include (what `tsc` compiles), the
// Dockerfile's COPY lines (what its build stage compiles) and .dockerignore (what reaches the build context). A
// folder missing from one of them breaks the image build (or leaves code out of it) without failing `tsc` here.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { dockerfileCopies, dockerignoreAllows, ROOT, shippedFolders } from "./shipped.js";

const isFolderIn = (folders: readonly string[]) => (path: string) =>
  folders.includes(path.replace(/\/$/, ""));
const isFolderHere = (path: string) =>
  existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isDirectory();
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe("reading the Dockerfile and .dockerignore (pure)", () => {
  test("COPY sources of the build context, without --from stages, destinations or flags", () => {
    const dockerfile = [
      "FROM x AS build",
      "COPY package.json package-lock.json ./",
      "COPY --chown=root:root cli ./cli",
      "COPY gateway/src/ ./gateway/src",
      "COPY --from=build --chown=root:root /app/dist ./dist",
      "RUN echo COPY not-a-copy ./x",
    ].join("\n");
    assert.deepEqual(dockerfileCopies(dockerfile, isFolderIn(["cli", "gateway/src"])), {
      folders: ["cli", "gateway/src"],
      files: ["package.json", "package-lock.json"],
    });
  });

  test(".dockerignore exceptions after `**`, folders and files apart", () => {
    assert.deepEqual(dockerignoreAllows("# comment\n**\n!package.json\n!cli/**\n\n!gateway/src/**\n"), {
      excludesAllFirst: true,
      folders: ["cli", "gateway/src"],
      files: ["package.json"],
    });
    assert.equal(dockerignoreAllows("node_modules\n").excludesAllFirst, false);
  });
});

describe("tsconfig.json, the Dockerfile and .dockerignore name the same shipped folders", () => {
  const compiled = sorted(shippedFolders());
  const copies = dockerfileCopies(readFileSync(join(ROOT, "Dockerfile"), "utf8"), isFolderHere);
  const allows = dockerignoreAllows(readFileSync(join(ROOT, ".dockerignore"), "utf8"));

  test("every folder tsconfig.json compiles exists", () => {
    assert.deepEqual(
      compiled.filter((dir) => !isFolderHere(dir)),
      [],
    );
  });

  test("the Dockerfile's build copies exactly the folders tsconfig.json compiles", () => {
    assert.deepEqual(sorted(copies.folders), compiled);
  });

  test(".dockerignore lets exactly those folders and the copied files through, and nothing else", () => {
    assert.ok(allows.excludesAllFirst, ".dockerignore starts from `**` (an allow-list)");
    assert.deepEqual(sorted(allows.folders), compiled);
    assert.deepEqual(sorted(allows.files), sorted(copies.files));
  });
});
