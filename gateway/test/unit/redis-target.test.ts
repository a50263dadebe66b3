import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRedisTarget } from "../../src/broker/redis/target.js";

describe("parseRedisTarget", () => {
  it("standalone redis:// and rediss://", () => {
    assert.deepEqual(parseRedisTarget("redis://127.0.0.1:6379", false), {
      mode: "standalone",
      url: "redis://127.0.0.1:6379",
    });
    assert.equal(parseRedisTarget("rediss://u:p@redis.example:6380/2", false).mode, "standalone");
  });
  it("cluster seeds with credentials and TLS from the first", () => {
    assert.deepEqual(
      parseRedisTarget("rediss://:s3cret@10.0.0.1:7000, redis://10.0.0.2:7001,10.0.0.3", true),
      {
        mode: "cluster",
        seeds: [
          { host: "10.0.0.1", port: 7000 },
          { host: "10.0.0.2", port: 7001 },
          { host: "10.0.0.3", port: 6379 },
        ],
        auth: { password: "s3cret" },
        tls: true,
      },
    );
  });
  it("sentinel", () => {
    assert.deepEqual(parseRedisTarget("redis+sentinel://user:pw@s1:26379,s2:26380/mymaster", false), {
      mode: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
      ],
      name: "mymaster",
      auth: { username: "user", password: "pw" },
      tls: false,
    });
  });
  const bad: Array<[string, string, boolean]> = [
    ["http URL", "http://x:1", false],
    ["seed list without cluster", "redis://a:1,redis://b:2", false],
    ["bad port", "a:99999", true],
    ["empty cluster", " , ", true],
  ];
  for (const [name, url, cluster] of bad)
    it(`rejects ${name}`, () => assert.throws(() => parseRedisTarget(url, cluster)));
});
