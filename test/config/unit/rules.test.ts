// The shared rules and parsers (config/): each kind of value with what it accepts and the sentence it gives
// otherwise, and the naming of settings (flags, variables, cross-setting sentences).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import {
  allOf,
  fieldName,
  optionNames,
  parseEnv,
  parseFlags,
  unknownVariables,
} from "../../../config/parse.js";
import {
  boolean,
  choice,
  commaList,
  fraction,
  integer,
  list,
  number,
  port,
  seconds,
  shown,
  text,
  url,
} from "../../../config/rules.js";

/** One rule as the only field `x`: its value, or its sentence after the name "X". */
function check(rule: z.ZodType, input: unknown): unknown {
  const r = parseFlags(z.object({ x: rule }), { x: input }, { x: "X" });
  return r.ok ? r.value.x : r.errors.join(" | ");
}

describe("config rules", () => {
  const table: Array<[string, z.ZodType, unknown, unknown]> = [
    ["integer", integer(1, 64), "12", 12],
    ["integer from a default", integer(1, 64), 3, 3],
    ["integer fraction", integer(1, 64), "1.5", "X must be an integer between 1 and 64 (got 1.5)"],
    ["integer hex", integer(1, 64), "0x10", 'X must be an integer between 1 and 64 (got "0x10")'],
    ["integer empty", integer(1, 64), "", 'X must be an integer between 1 and 64 (got "")'],
    ["integer unbounded", integer(1), "0", "X must be an integer of at least 1 (got 0)"],
    [
      "integer with a unit",
      integer(8, 960, "seconds"),
      "7",
      "X must be a whole number of seconds between 8 and 960 (got 7)",
    ],
    ["number", number({ min: 0, max: 10 }), " 2.5 ", 2.5],
    ["number Infinity", number({ min: 0 }), "Infinity", 'X must be a number of at least 0 (got "Infinity")'],
    ["number above", number({ min: 0, above: true }), "0", "X must be a number above 0 (got 0)"],
    [
      "seconds",
      seconds({ min: 0, max: 3600 }),
      "3601",
      "X must be a number of seconds between 0 and 3600 (got 3601)",
    ],
    ["fraction", fraction(), "0", "X must be a number above 0 and at most 1 (got 0)"],
    ["port", port(), "0", 0],
    ["port too big", port(), "65536", "X must be an integer port between 0 and 65535 (got 65536)"],
    ["boolean 1", boolean(), "1", true],
    ["boolean 0", boolean(), "0", false],
    ["boolean bare flag", boolean(), true, true],
    ["boolean word", boolean(), "on", 'X must be true, false, 1 or 0 (got "on")'],
    ["choice", choice(["a", "b"]), "c", 'X must be one of a, b (got "c")'],
    ["text", text("a file path"), " ", 'X must be a file path (got " ")'],
    [
      "secret text",
      text("a key", /^.{8,}$/, { secret: true }),
      "hunter2",
      "X must be a key (got 7 characters)",
    ],
    [
      "url",
      url(["https:"]),
      "https://issuer.example/.well-known/jwks.json",
      "https://issuer.example/.well-known/jwks.json",
    ],
    ["url, wrong scheme", url(["https:"]), "http://x", 'X must be a https:// URL (got "http://x")'],
    ["url, no URL", url(["https:"]), "issuer", 'X must be a https:// URL (got "issuer")'],
    ["list", list(["a", "b", "c"]), "c, a", ["c", "a"]],
    [
      "comma list",
      commaList("origins", (o) => o.startsWith("https://")),
      "https://a, https://b,",
      ["https://a", "https://b"],
    ],
    [
      "comma list, a bad item",
      commaList("origins", (o) => o.startsWith("https://")),
      "https://a,http://b",
      'X must be origins (got "https://a,http://b")',
    ],
    ["comma list, empty", commaList("origins", () => true), " , ", 'X must be origins (got " , ")'],
    [
      "list repeat",
      list(["a", "b"]),
      "a,a",
      'X must be a comma-separated list of distinct values from a, b (got "a,a")',
    ],
  ];
  for (const [name, rule, input, expected] of table)
    it(name, () => assert.deepEqual(check(rule, input), expected));

  it("never shows a URL's credentials", () => {
    assert.equal(shown("redis://:pw@r:6379,rediss://u:p@s"), '"redis://***@r:6379,rediss://***@s"');
    assert.equal(shown("a@b"), '"a@b"');
  });
});

describe("config parsers", () => {
  const schema = z
    .object({ APP_PORT: port().default(80), APP_MAX_SHED_FRACTION: fraction().optional() })
    .superRefine((v, ctx) => {
      if (v.APP_PORT === 1) ctx.addIssue({ code: "custom", message: "APP_PORT=1 is reserved here" });
    });

  it("env: keyed by field, empty as unset", () => {
    assert.deepEqual(parseEnv(schema, "APP_", { APP_PORT: "", APP_MAX_SHED_FRACTION: "0.5", OTHER: "x" }), {
      ok: true,
      value: { port: 80, maxShedFraction: 0.5 },
    });
    assert.equal(fieldName("RTGW_HISTORY_TTL_SECONDS", "RTGW_"), "historyTtlSeconds");
  });

  it("env: a rule's sentence names the variable; a cross-setting one stands alone", () => {
    assert.deepEqual(parseEnv(schema, "APP_", { APP_PORT: "x" }), {
      ok: false,
      errors: ['APP_PORT must be an integer port between 0 and 65535 (got "x")'],
    });
    assert.deepEqual(parseEnv(schema, "APP_", { APP_PORT: "1" }), {
      ok: false,
      errors: ["APP_PORT=1 is reserved here"],
    });
  });

  it("env: unknown variables under the prefix", () => {
    assert.deepEqual(unknownVariables(schema, "APP_", { APP_PROT: "1", APP_PORT: "1", HOME: "/" }), [
      "APP_PROT",
    ]);
  });

  it("flags: --kebab names unless told, each sentence once", () => {
    const flags = z.object({ rampSeconds: seconds({ min: 0 }), queueQps: number({ min: 1 }) });
    assert.deepEqual(parseFlags(flags, { rampSeconds: "-1", queueQps: "0" }, { queueQps: "--qps (QPS)" }), {
      ok: false,
      errors: [
        "--ramp-seconds must be a number of seconds, at least 0 (got -1)",
        "--qps (QPS) must be a number of at least 1 (got 0)",
      ],
    });
  });

  it("allOf: every value, or every part's errors", () => {
    assert.deepEqual(allOf({ a: { ok: true, value: 1 }, b: { ok: true, value: "x" } }), {
      ok: true,
      value: { a: 1, b: "x" },
    });
    assert.deepEqual(allOf({ a: { ok: false, errors: ["e1"] }, b: { ok: false, errors: ["e2"] } }), {
      ok: false,
      errors: ["e1", "e2"],
    });
  });

  it("optionNames: the flag, and its variable when it has one", () => {
    const option = (attribute: string, long: string, envVar?: string) => ({
      attributeName: () => attribute,
      long,
      envVar,
    });
    assert.deepEqual(
      optionNames([option("leaseName", "--lease-name", "RTGW_LEASE_NAME"), option("quiet", "--quiet")]),
      {
        leaseName: "--lease-name (RTGW_LEASE_NAME)",
        quiet: "--quiet",
      },
    );
  });
});
