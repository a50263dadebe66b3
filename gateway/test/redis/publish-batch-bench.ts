// What batching the publish script would buy (not a test: prints figures, asserts nothing about speed).
//   node --import tsx gateway/test/redis/publish-batch-bench.ts [publishes=64000]
// Runs the broker's PUBLISH_SCRIPT unchanged inside a wrapper that applies it to K publishes per EVALSHA
// (K = 1, 4, 16: one call per event-loop batch), 256 publishes in flight over 100 channels, and prints
// publishes/s with the CPU per publish of this process (ioredis) and of redis-server (from /proc), then Redis's
// own INFO commandstats for the script's commands. `rtgw bench --scenarios publish` measures the real broker.
import { Redis } from "ioredis";
import { startRedisServer } from "../../../loadtest/src/bench/processes.js";
import { parseCommandStats } from "../../../loadtest/src/bench/redis-publish.js";
import { PUBLISH_SCRIPT } from "../../src/broker/redis/scripts.js";

const TOTAL = Number(process.argv[2] ?? 64_000);
const IN_FLIGHT = 256;
/** ARGV per publish in PUBLISH_SCRIPT: pubsub channel … adoptable stamp (see its header). */
const ARGS_PER_PUBLISH = 9;

/** PUBLISH_SCRIPT as a Lua function applied to ARGV[1] publishes, each with its 4 keys and 9 arguments. */
const BATCH_SCRIPT = `local function one(KEYS, ARGV)
${PUBLISH_SCRIPT}
end
local n = tonumber(ARGV[1])
local out = {}
for i = 0, n - 1 do
  local k = {KEYS[4 * i + 1], KEYS[4 * i + 2], KEYS[4 * i + 3], KEYS[4 * i + 4]}
  local a = {}
  for j = 1, ${ARGS_PER_PUBLISH} do a[j] = ARGV[1 + ${ARGS_PER_PUBLISH} * i + j] end
  local r = one(k, a)
  out[#out + 1] = r[1]
  out[#out + 1] = r[2]
end
return out`;

const redis = await startRedisServer();
try {
  for (const batch of [1, 4, 16]) {
    const client = new Redis(redis.url, { enableAutoPipelining: true });
    const sha = String(await client.script("LOAD", BATCH_SCRIPT));
    let epochSeq = 0;
    const run = async (total: number) => {
      let next = 0;
      const started = performance.now();
      const cpu = process.cpuUsage();
      const redisBefore = redis.cpuSeconds();
      await Promise.all(
        Array.from({ length: Math.max(1, IN_FLIGHT / batch) }, async () => {
          while (next < total) {
            const keys: string[] = [];
            const args: Array<string | number> = [batch];
            for (let i = 0; i < batch; i++) {
              const c = next++ % 100;
              keys.push(`{b${c}}:o`, `{b${c}}:e`, `{b${c}}:h`, `{b${c}}:a`);
              args.push(
                `rtgw:b${c}`,
                '{"ts":1,"seq":2}',
                Date.now(),
                `s-${++epochSeq}`,
                100,
                300,
                "0",
                "s",
                "",
              );
            }
            await client.evalsha(sha, keys.length, ...keys, ...args);
          }
        }),
      );
      const used = process.cpuUsage(cpu);
      return {
        perSecond: Math.round(total / ((performance.now() - started) / 1000)),
        clientUs: ((used.user + used.system) / total).toFixed(1),
        redisUs: (((redis.cpuSeconds() - redisBefore) * 1e6) / total).toFixed(1),
      };
    };
    await run(4_000);
    await client.config("RESETSTAT");
    const r = await run(TOTAL);
    const stats = parseCommandStats(await client.info("commandstats"));
    console.log(
      `${batch} publish(es) per EVALSHA: ${r.perSecond}/s; CPU per publish: client ${r.clientUs} µs, redis-server ${r.redisUs} µs; ` +
        `commandstats µs/call: ${["evalsha", "xadd", "expire", "incr", "get", "publish"].map((n) => `${n} ${stats[n]}`).join(", ")}`,
    );
    client.disconnect();
  }
} finally {
  await redis.stop();
}
