import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { SWITCH_SPELLINGS } from "../../../test-support/switch-spellings.js";
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

  it("reports RTGW_* variables it does not know (typos), and only those", () => {
    const r = parseConfig({ RTGW_MAX_CONECTIONS: "5", RTGW_PORT: "1", HOME: "/root", RTGW_A: "" });
    assert.ok(r.ok);
    assert.deepEqual(r.unknown, ["RTGW_A", "RTGW_MAX_CONECTIONS"]);
    const clean = parseConfig({ RTGW_PORT: "1", HOME: "/root" });
    assert.ok(clean.ok);
    assert.deepEqual(clean.unknown, []);
  });

  it("switches take true, false, 1 and 0", () => {
    for (const [value, on] of SWITCH_SPELLINGS) {
      const r = parseConfig({ RTGW_REDIS_CLUSTER: value });
      assert.ok(r.ok);
      assert.equal(r.config.redisCluster, on, value);
    }
  });

  it("names several bad variables, one sentence each, in table order", () => {
    assert.deepEqual(parseConfig({ RTGW_COMPRESSION: "gzip", RTGW_PORT: "x" }), {
      ok: false,
      errors: [
        'RTGW_PORT must be an integer port between 0 and 65535 (got "x")',
        'RTGW_COMPRESSION must be one of off, shared, dedicated (got "gzip")',
      ],
    });
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
      /^RTGW_PORT must be an integer port between 0 and 65535 \(got "http"\)$/,
    ],
    ["port too big", { RTGW_PORT: "70000" }, /^RTGW_PORT must be .*between 0 and 65535 \(got 70000\)$/],
    ["port in hex", { RTGW_PORT: "0x10" }, /^RTGW_PORT must be .* \(got "0x10"\)$/],
    [
      "unknown broker",
      { RTGW_BROKER: "kafka" },
      /^RTGW_BROKER must be one of memory, redis \(got "kafka"\)$/,
    ],
    ["redis without url", { RTGW_BROKER: "redis" }, /^RTGW_REDIS_URL is required when RTGW_BROKER=redis/],
    [
      "url not redis",
      { RTGW_BROKER: "redis", RTGW_REDIS_URL: "http://x" },
      /^RTGW_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL.* \(got "http:\/\/x"\)$/,
    ],
    [
      "url not redis, its password masked",
      { RTGW_BROKER: "redis", RTGW_REDIS_URL: "http://u:hunter2@x" },
      /^RTGW_REDIS_URL must be .* \(got "http:\/\/\*\*\*@x"\)$/,
    ],
    [
      "cluster switch",
      { RTGW_REDIS_CLUSTER: "yes" },
      /^RTGW_REDIS_CLUSTER must be true, false, 1 or 0 \(got "yes"\)$/,
    ],
    ["auth unknown", { RTGW_AUTH: "basic" }, /^RTGW_AUTH must be one of none, jwt \(got "basic"\)$/],
    [
      "jwt without key",
      { RTGW_AUTH: "jwt" },
      /^RTGW_AUTH=jwt needs RTGW_JWT_SECRET \(HS256\), RTGW_JWT_PUBLIC_KEY .* or RTGW_JWT_JWKS_URL$/,
    ],
    ["public key not PEM", { RTGW_JWT_PUBLIC_KEY: "abc" }, /^RTGW_JWT_PUBLIC_KEY must be a PEM public key/],
    [
      "max connections zero",
      { RTGW_MAX_CONNECTIONS: "0" },
      /^RTGW_MAX_CONNECTIONS must be an integer of at least 1 \(got 0\)$/,
    ],
    [
      "message bytes tiny",
      { RTGW_MAX_MESSAGE_BYTES: "10" },
      /^RTGW_MAX_MESSAGE_BYTES must be a whole number of bytes between 256 and 16777216 \(got 10\)$/,
    ],
    [
      "drain negative",
      { RTGW_DRAIN_SECONDS: "-1" },
      /^RTGW_DRAIN_SECONDS must be a number of seconds between 0 and 3600 \(got -1\)$/,
    ],
    [
      "compression",
      { RTGW_COMPRESSION: "gzip" },
      /^RTGW_COMPRESSION must be one of off, shared, dedicated \(got "gzip"\)$/,
    ],
    [
      "history size",
      { RTGW_HISTORY_SIZE: "1.5" },
      /^RTGW_HISTORY_SIZE must be an integer between 0 and 1000000 \(got 1.5\)$/,
    ],
    [
      "history ttl",
      { RTGW_HISTORY_TTL_SECONDS: "0" },
      /^RTGW_HISTORY_TTL_SECONDS must be a whole number of seconds, at least 1 \(got 0\)$/,
    ],
    [
      "api key short (its value not shown)",
      { RTGW_API_KEY: "short" },
      /^RTGW_API_KEY must be a bearer key of at least 8 characters \(got 5 characters\)$/,
    ],
    [
      "publish rate zero",
      { RTGW_PUBLISH_RATE: "0" },
      /^RTGW_PUBLISH_RATE must be a number of publishes per second per connection above 0 \(got 0\)$/,
    ],
    ["log level", { RTGW_LOG_LEVEL: "loud" }, /^RTGW_LOG_LEVEL must be one of fatal, error/],
    [
      "admin key short",
      { RTGW_ADMIN_KEY: "0123456789" },
      /^RTGW_ADMIN_KEY must be a bearer key of at least 16 characters \(got 10 characters\)$/,
    ],
    [
      "admin key = api key",
      { RTGW_API_KEY: "0123456789abcdef", RTGW_ADMIN_KEY: "0123456789abcdef" },
      /^RTGW_ADMIN_KEY must differ from RTGW_API_KEY/,
    ],
    [
      "HS256 secret under 32 bytes (its value not shown)",
      { RTGW_JWT_SECRET: "x".repeat(31) },
      /^RTGW_JWT_SECRET must be an HS256 secret of at least 32 bytes .*\(got 31 characters\)$/,
    ],
    [
      "JWKS URL not http(s)",
      { RTGW_JWT_JWKS_URL: "file:///etc/jwks.json" },
      /^RTGW_JWT_JWKS_URL must be an http\(s\) URL/,
    ],
    [
      "origin without scheme",
      { RTGW_ALLOWED_ORIGINS: "app.example.com" },
      /^RTGW_ALLOWED_ORIGINS must be comma-separated origins/,
    ],
    [
      "origin with a path",
      { RTGW_ALLOWED_ORIGINS: "https://a.example.com/x" },
      /^RTGW_ALLOWED_ORIGINS must be/,
    ],
    [
      "TLS cert without key",
      { RTGW_TLS_CERT_FILE: "/tls/tls.crt" },
      /^RTGW_TLS_CERT_FILE and RTGW_TLS_KEY_FILE go together/,
    ],
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
    assert.equal(
      r.stderr,
      'rtgw gateway: RTGW_COMPRESSION must be one of off, shared, dedicated (got "brotli")\n' +
        "(the README's gateway configuration lists every RTGW_* variable)\n",
    );
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
    assert.match(
      r.stderr,
      /^rtgw gateway: RTGW_JWT_PUBLIC_KEY must be a PEM RSA or EC public key \(got one that/,
    );
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
