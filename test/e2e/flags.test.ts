// `make e2e` flags (test/e2e/flags.ts): parseArgs, then the shared rules; each row is argv and the options or the
// exact sentences main prints before exiting 2.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseE2eFlags } from "./flags.js";
import { SCENARIOS as E2E_SCENARIOS } from "./scenario.js";

describe("make e2e flags", () => {
  it("defaults to the full scenario", () => {
    assert.deepEqual(parseE2eFlags([]), {
      ok: true,
      value: { scenario: E2E_SCENARIOS.full, out: "loadtest/results", logs: ".cache/e2e-logs" },
    });
  });
  it("takes the small scenario and other directories", () => {
    assert.deepEqual(parseE2eFlags(["--scenario", "small", "--out", "/tmp/r", "--logs=/tmp/l"]), {
      ok: true,
      value: { scenario: E2E_SCENARIOS.small, out: "/tmp/r", logs: "/tmp/l" },
    });
  });
  const bad: Array<[string, string[], string[]]> = [
    ["an unknown scenario", ["--scenario", "huge"], ['--scenario must be one of full, small (got "huge")']],
    [
      "an inherited property as a scenario",
      ["--scenario", "toString"],
      ['--scenario must be one of full, small (got "toString")'],
    ],
    ["an empty output directory", ["--out", ""], ['--out must be a directory path (got "")']],
    ["an unknown flag", ["--scenarios", "small"], ["Unknown option '--scenarios'"]],
  ];
  for (const [name, argv, errors] of bad) {
    it(`rejects ${name}`, () => {
      assert.deepEqual(parseE2eFlags(argv), { ok: false, errors });
    });
  }
});
