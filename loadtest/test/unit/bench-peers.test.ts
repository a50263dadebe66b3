// The bench's pure parts around its peers: Pusher's request signature (the vector from Pusher's HTTP API
// documentation), Soketi's loopback-only settings, redis-benchmark's CSV, and the pod-at-cap size.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cpuSecondsFromStat,
  reapedChildrenCpuSecondsFromStat,
  soketiEnv,
} from "../../src/bench/processes.js";
import { pusherEventBody, pusherSignedQuery } from "../../src/bench/pusher-publisher.js";
import { parseCommandStats, parseRedisBenchmarkCsv } from "../../src/bench/redis-publish.js";
import { podCapConnections } from "../../src/bench/sizes.js";

describe("pusher HTTP API signature", () => {
  it("matches Pusher's documented example", () => {
    const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';
    const query = pusherSignedQuery(
      "POST",
      "/apps/3/events",
      body,
      { key: "278d425bdf160c739803", secret: "7ad3773142a6692b25b8" },
      1353088179,
    );
    assert.equal(
      query,
      "auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f" +
        "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c",
    );
  });

  it("triggers one event whose data string carries the offset around the payload", () => {
    assert.deepEqual(JSON.parse(pusherEventBody("c-1", 7, '{"ts":1}')), {
      name: "message",
      channel: "c-1",
      data: '{"offset":7,"data":{"ts":1}}',
    });
  });
});

describe("soketi settings", () => {
  it("keeps every listener and discovery hello on loopback, and adds the Redis adapter only when asked", () => {
    const ports = { http: 1, metrics: 2, discovery: 3 };
    const local = soketiEnv(ports);
    assert.equal(local.SOKETI_HOST, "127.0.0.1");
    assert.equal(local.SOKETI_METRICS_HOST, "127.0.0.1");
    assert.equal(local.SOKETI_CLUSTER_UNICAST_ADDRESSES, "127.0.0.1");
    assert.deepEqual(
      [local.SOKETI_PORT, local.SOKETI_METRICS_SERVER_PORT, local.SOKETI_CLUSTER_PORT],
      ["1", "2", "3"],
    );
    assert.equal(local.SOKETI_ADAPTER_DRIVER, undefined);
    const shared = soketiEnv(ports, "redis://127.0.0.1:6380");
    assert.equal(shared.SOKETI_ADAPTER_DRIVER, "redis");
    assert.equal(shared.SOKETI_DB_REDIS_HOST, "127.0.0.1");
    assert.equal(shared.SOKETI_DB_REDIS_PORT, "6380");
  });
});

describe("redis-benchmark --csv", () => {
  it("reads the requests/s even when the command line holds quotes and commas", () => {
    const output = [
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
      '"PUBLISH bench:pub:__rand_int__ {"ts":1,"seq":2}","148148.14","0.221","0.064","0.199","0.295","0.367","8.503"',
      "",
    ].join("\n");
    assert.equal(parseRedisBenchmarkCsv(output), 148148.14);
    assert.equal(parseRedisBenchmarkCsv('"test","rps"\n'), null);
  });
});

describe("INFO commandstats", () => {
  it("reads µs per call for each command, subcommands included", () => {
    const info = [
      "# Commandstats",
      "cmdstat_evalsha:calls=68000,usec=957286,usec_per_call=14.08,rejected_calls=0,failed_calls=0",
      "cmdstat_xadd:calls=68000,usec=329431,usec_per_call=4.84,rejected_calls=0,failed_calls=0",
      "cmdstat_config|get:calls=10,usec=34,usec_per_call=3.40,rejected_calls=0,failed_calls=0\r",
      "",
    ].join("\r\n");
    assert.deepEqual(parseCommandStats(info), { evalsha: 14.08, xadd: 4.84, "config|get": 3.4 });
  });
});

describe("pod at its cap", () => {
  it("is 19,900 connections under 20,000 open files, and below the limit's reserve under fewer", () => {
    assert.equal(podCapConnections(20_000), 19_900);
    assert.equal(podCapConnections(10_000), 9_936);
    assert.equal(podCapConnections(undefined), 19_900);
  });
});

describe("CPU time from /proc/<pid>/stat", () => {
  it("reads utime + stime (and the reaped children's) after the command name, spaces and parentheses in it included", () => {
    const stat = "4242 (redis (x) srv) S 1 4242 4242 0 -1 4194560 513 0 0 0 250 75 30 10 20 0 5 0 1234 0 0";
    assert.equal(cpuSecondsFromStat(stat), 3.25);
    assert.equal(reapedChildrenCpuSecondsFromStat(stat), 0.4);
  });
});
