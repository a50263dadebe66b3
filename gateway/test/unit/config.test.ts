import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config.js";

describe("config", () => {
  it("defaults to DESIGN's table", () => {
    const r = parseConfig({});
    assert.ok(r.ok);
    const c = r.config;
    assert.equal(c.port, 8080);
    assert.equal(c.metricsPort, 9090);
    assert.equal(c.broker, "memory");
    assert.equal(c.auth, "none");
    assert.equal(c.maxConnections, 100_000);
    assert.equal(c.maxMessageBytes, 65_536);
    assert.equal(c.drainSeconds, 30);
    assert.equal(c.compression, "off");
    assert.equal(c.historySize, 100);
    assert.equal(c.historyTtlSeconds, 300);
    assert.equal(c.apiKey, undefined);
    assert.match(c.nodeId, /^.+-[0-9a-f]{6}$/);
  });

  it("parses every variable", () => {
    const r = parseConfig({
      RTGW_PORT: "1234",
      RTGW_METRICS_PORT: "0",
      RTGW_BROKER: "redis",
      RTGW_REDIS_URL: "rediss://h:6380",
      RTGW_AUTH: "jwt",
      RTGW_JWT_SECRET: "s3cret-s3cret-s3cret-s3cret-0123",
      RTGW_API_KEY: "0123456789",
      RTGW_MAX_CONNECTIONS: "10",
      RTGW_MAX_MESSAGE_BYTES: "1024",
      RTGW_DRAIN_SECONDS: "2.5",
      RTGW_COMPRESSION: "dedicated",
      RTGW_HISTORY_SIZE: "0",
      RTGW_HISTORY_TTL_SECONDS: "5",
      RTGW_NODE_ID: "pod-a",
      RTGW_REDIS_CLUSTER: "true",
    });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      [
        r.config.port,
        r.config.metricsPort,
        r.config.broker,
        r.config.redisUrl,
        r.config.auth,
        r.config.nodeId,
      ],
      [1234, 0, "redis", "rediss://h:6380", "jwt", "pod-a"],
    );
    assert.deepEqual(
      [r.config.maxConnections, r.config.maxMessageBytes, r.config.drainSeconds, r.config.compression],
      [10, 1024, 2.5, "dedicated"],
    );
    assert.equal(r.config.historySize, 0);
    assert.equal(r.config.redisCluster, true);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    [
      "port not a number",
      { RTGW_PORT: "http" },
      /^RTGW_PORT="http" is invalid: expected an integer port 0-65535$/,
    ],
    ["port too big", { RTGW_PORT: "70000" }, /^RTGW_PORT=.*0-65535/],
    [
      "unknown broker",
      { RTGW_BROKER: "kafka" },
      /^RTGW_BROKER="kafka" is invalid: expected memory or redis$/,
    ],
    ["redis without url", { RTGW_BROKER: "redis" }, /^RTGW_REDIS_URL is required when RTGW_BROKER=redis/],
    [
      "url not redis",
      { RTGW_BROKER: "redis", RTGW_REDIS_URL: "http://x" },
      /^RTGW_REDIS_URL=.*redis:\/\/ or rediss:\/\//,
    ],
    ["auth unknown", { RTGW_AUTH: "basic" }, /^RTGW_AUTH="basic" is invalid: expected none or jwt$/],
    [
      "jwt without key",
      { RTGW_AUTH: "jwt" },
      /RTGW_JWT_SECRET \(HS256\), RTGW_JWT_PUBLIC_KEY .* or RTGW_JWT_JWKS_URL/,
    ],
    ["public key not PEM", { RTGW_JWT_PUBLIC_KEY: "abc" }, /^RTGW_JWT_PUBLIC_KEY=.*PEM/],
    [
      "max connections zero",
      { RTGW_MAX_CONNECTIONS: "0" },
      /^RTGW_MAX_CONNECTIONS="0" is invalid: expected a positive integer$/,
    ],
    ["message bytes tiny", { RTGW_MAX_MESSAGE_BYTES: "10" }, /^RTGW_MAX_MESSAGE_BYTES=.*256-16777216/],
    ["drain negative", { RTGW_DRAIN_SECONDS: "-1" }, /^RTGW_DRAIN_SECONDS=.*0-3600/],
    [
      "compression",
      { RTGW_COMPRESSION: "gzip" },
      /^RTGW_COMPRESSION="gzip" is invalid: expected off, shared or dedicated$/,
    ],
    ["history size", { RTGW_HISTORY_SIZE: "1.5" }, /^RTGW_HISTORY_SIZE=/],
    ["history ttl", { RTGW_HISTORY_TTL_SECONDS: "0" }, /^RTGW_HISTORY_TTL_SECONDS=/],
    ["api key short", { RTGW_API_KEY: "short" }, /^RTGW_API_KEY=.*at least 8/],
    ["admin key short", { RTGW_ADMIN_KEY: "0123456789" }, /^RTGW_ADMIN_KEY=.*at least 16/],
    [
      "admin key = api key",
      { RTGW_API_KEY: "0123456789abcdef", RTGW_ADMIN_KEY: "0123456789abcdef" },
      /^RTGW_ADMIN_KEY must differ from RTGW_API_KEY/,
    ],
    ["log level", { RTGW_LOG_LEVEL: "loud" }, /^RTGW_LOG_LEVEL=/],
    [
      "HS256 secret under 32 bytes",
      { RTGW_JWT_SECRET: "x".repeat(31) },
      /^RTGW_JWT_SECRET is invalid: .*at least 32 bytes/,
    ],
    ["JWKS URL not http(s)", { RTGW_JWT_JWKS_URL: "file:///etc/jwks.json" }, /^RTGW_JWT_JWKS_URL=/],
    ["origin without scheme", { RTGW_ALLOWED_ORIGINS: "app.example.com" }, /^RTGW_ALLOWED_ORIGINS=/],
    ["origin with a path", { RTGW_ALLOWED_ORIGINS: "https://a.example.com/x" }, /^RTGW_ALLOWED_ORIGINS=/],
  ];
  for (const [name, env, message] of bad) {
    it(`rejects ${name}`, () => {
      const r = parseConfig(env);
      assert.ok(!r.ok);
      assert.ok(
        r.errors.some((e) => message.test(e)),
        `${JSON.stringify(r.errors)} should match ${message}`,
      );
    });
  }

  it("the process exits 2 naming the variable", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "gateway/src/main.ts"], {
      env: { PATH: process.env.PATH, RTGW_COMPRESSION: "brotli" },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /RTGW_COMPRESSION="brotli" is invalid: expected off, shared or dedicated/);
  });

  it("the process exits 2 on a PEM that is no usable public key", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "gateway/src/main.ts"], {
      env: {
        PATH: process.env.PATH,
        RTGW_AUTH: "jwt",
        RTGW_JWT_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n",
      },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /RTGW_JWT_PUBLIC_KEY is invalid/);
  });

  it("the process refuses uWS's JS fallback (exit 3, says why)", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "gateway/src/main.ts"], {
      env: { PATH: process.env.PATH, UWS_USE_FALLBACK: "1", RTGW_PORT: "0", RTGW_METRICS_PORT: "0" },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 3);
    assert.match(r.stdout + r.stderr, /fell back to its JS shim/);
  });
});
