import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tokenFrom } from "../../src/auth.js";
import { ALLOW_ALL, ALLOW_NONE, compilePatterns, matches } from "../../src/channel-patterns.js";

describe("channel patterns", () => {
  const table: [string[], string, boolean][] = [
    [["chat:42"], "chat:42", true],
    [["chat:42"], "chat:420", false],
    [["chat:42"], "chat:4", false],
    [["chat:*"], "chat:42", true],
    [["chat:*"], "chat:", true],
    [["chat:*"], "chat", false],
    [["chat:*"], "news:1", false],
    [["*"], "anything", true],
    [[], "chat:42", false],
    [["news:1", "user:7:*"], "user:7:inbox", true],
    [["news:1", "user:7:*"], "user:8:inbox", false],
    [["news:1", "user:7:*"], "news:1", true],
    [["chat*x"], "chat*x", true], // `*` counts only at the end
    [["chat*x"], "chatyx", false],
  ];
  for (const [patterns, channel, want] of table) {
    it(`${JSON.stringify(patterns)} ${want ? "allows" : "refuses"} ${channel}`, () => {
      assert.equal(matches(compilePatterns(patterns), channel), want);
    });
  }
  it("ALLOW_ALL and ALLOW_NONE", () => {
    assert.equal(matches(ALLOW_ALL, "x"), true);
    assert.equal(matches(ALLOW_NONE, "x"), false);
  });
});

describe("token location", () => {
  it("prefers the Authorization header, falls back to ?token=", () => {
    assert.equal(tokenFrom("Bearer abc", "q"), "abc");
    assert.equal(tokenFrom("bearer abc", ""), "abc");
    assert.equal(tokenFrom("", "q"), "q");
    assert.equal(tokenFrom("Basic xyz", ""), undefined);
    assert.equal(tokenFrom("", ""), undefined);
  });
});
