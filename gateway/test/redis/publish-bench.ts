// Publish throughput through the Redis broker (the publish script's cost): N publishes, W in flight, on one
// channel and on many. Not a test: run by hand, `node --import tsx gateway/test/redis/publish-bench.ts [N]`.
import { startRedis } from "../../../test-support/redis.js";
import { startBroker } from "./broker-support.js";

const total = Number(process.argv[2] ?? 50_000);
const window = 1000;
const redis = await startRedis();
const { broker } = await startBroker(redis.url);
try {
  for (const channels of [1, 100]) {
    for (let round = 0; round < 2; round++) {
      const started = performance.now();
      for (let i = 0; i < total; i += window) {
        const batch: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(total, i + window); j++) {
          batch.push(broker.publish(`bench-${j % channels}`, `{"n":${j}}`));
        }
        await Promise.all(batch);
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`${channels} channel(s), round ${round + 1}: ${Math.round(total / seconds)} publishes/s`);
    }
  }
} finally {
  await broker.close();
  await redis.stop();
}
