import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { originAllowed, upgradeOriginAllowed } from "../../src/origins.js";

describe("originAllowed", () => {
  const patterns = ["https://app.example.com", "https://*.example.org", "http://localhost:3000"];
  const table: [string, boolean][] = [
    ["https://app.example.com", true],
    ["HTTPS://APP.EXAMPLE.COM", true],
    ["http://app.example.com", false],
    ["https://app.example.com:8443", false],
    ["https://evil.com", false],
    ["https://app.example.com.evil.com", false],
    ["https://a.example.org", true],
    ["https://a.b.example.org", true],
    ["https://example.org", false],
    ["https://evilexample.org", false],
    ["https://a.example.org:444", false],
    ["http://a.example.org", false],
    ["https://a.example.org.evil.com", false],
    ["http://localhost:3000", true],
    ["http://localhost:3001", false],
    ["null", false],
  ];
  for (const [origin, want] of table)
    it(`${origin} → ${want}`, () => assert.equal(originAllowed(origin, patterns), want));
  it("with a port on the wildcard", () => {
    assert.equal(originAllowed("https://x.example.org:8443", ["https://*.example.org:8443"]), true);
    assert.equal(originAllowed("https://x.example.org", ["https://*.example.org:8443"]), false);
  });
});

describe("upgradeOriginAllowed", () => {
  it("no patterns: no check; no Origin header: not a browser, allowed", () => {
    assert.equal(upgradeOriginAllowed("https://evil.com", undefined), true);
    assert.equal(upgradeOriginAllowed("", ["https://app.example.com"]), true);
    assert.equal(upgradeOriginAllowed("https://evil.com", ["https://app.example.com"]), false);
  });
});
