import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { serverIdOf } from "../../src/broker/redis/server-id.js";

const run = "a".repeat(40);
const replid = "0123456789abcdef0123456789abcdef01234567";
const stamp = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);
const info = (lines: string[]) => `# Server\r\nredis_version:7.0.15\r\n${lines.join("\r\n")}\r\n`;

describe("serverIdOf", () => {
  const cases: Array<[string, string, string | undefined]> = [
    [
      "run_id and master_replid",
      info([`run_id:${run}`, "# Replication", `master_replid:${replid}`]),
      stamp(`${run}/${replid}`),
    ],
    ["LF line ends", `run_id:${run}\nmaster_replid:${replid}\n`, stamp(`${run}/${replid}`)],
    ["master_replid2 is not master_replid", info([`run_id:${run}`, `master_replid2:${replid}`]), undefined],
    ["no run_id", info([`master_replid:${replid}`]), undefined],
    ["no master_replid", info([`run_id:${run}`]), undefined],
    ["malformed run_id", info(["run_id:xyz", `master_replid:${replid}`]), undefined],
    ["empty", "", undefined],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.equal(serverIdOf(text), expected));
  }

  it("is 16 hex digits (it prefixes epochs, which clients send back)", () => {
    assert.match(serverIdOf(`run_id:${run}\nmaster_replid:${replid}\n`) ?? "", /^[0-9a-f]{16}$/);
  });

  it("differs when either part differs", () => {
    const other = "b".repeat(40);
    const base = serverIdOf(`run_id:${run}\nmaster_replid:${replid}\n`);
    assert.notEqual(serverIdOf(`run_id:${other}\nmaster_replid:${replid}\n`), base);
    assert.notEqual(serverIdOf(`run_id:${run}\nmaster_replid:${other}\n`), base);
  });
});
