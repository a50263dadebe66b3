// Relay benchmark (not a test: prints figures, asserts nothing about speed).
//   node --import tsx gateway/test/redis/relay-bench.ts [messages=500000] [sockets=4]
// 1. broker: how many messages/s one Redis broker turns from pub/sub payloads into BrokerEvents.message batches.
// 2. pod: how many messages/s one gateway process (RTGW_BROKER=redis) relays from Redis to its WebSocket clients.
// 3. end to end: messages/s through the atomic publish script (several publisher connections) to one subscriber.
// Payloads for 1 and 2 are pushed with pipelined PUBLISH (what the publish script emits, with consecutive
// offsets), so the publisher is not the bottleneck being measured.
import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Registry } from "prom-client";
import { WebSocket } from "ws";
import { startGateway } from "../../../test-support/gateway.js";
import { startRedis } from "../../../test-support/redis.js";
import { createRedisBroker } from "../../src/broker/redis/index.js";
import { pubsubChannel } from "../../src/broker/redis/keys.js";
import { encodeMessagePayload } from "../../src/broker/redis/payload.js";

const MESSAGES = Number(process.argv[2] ?? 500_000);
const SOCKETS = Number(process.argv[3] ?? 4);
const MARK = '{"type":"message"';
const DATA = JSON.stringify({ text: "hello from the relay benchmark", n: 0 });

function broker(url: string, nodeId: string) {
  return createRedisBroker({
    url,
    nodeId,
    historySize: 100,
    historyTtlSeconds: 300,
    logger: pino({ level: "warn" }),
    registry: new Registry(),
  });
}

/**
 * PUBLISH `count` consecutive message payloads from another process (`redis-cli --pipe` reading a prepared
 * RESP stream), so the publisher does not compete with the relay for this process's event loop.
 */
async function pump(port: number, channel: string, epoch: string, count: number): Promise<void> {
  const name = pubsubChannel(channel);
  const file = join(tmpdir(), `rtgw-relay-${process.pid}-${channel.replace(/\W/g, "_")}.resp`);
  const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  const head = `*3\r\n${bulk("PUBLISH")}${bulk(name)}`;
  const chunks: string[] = [];
  const now = Date.now();
  for (let o = 1; o <= count; o++) chunks.push(head + bulk(encodeMessagePayload(o, epoch, now, DATA)));
  writeFileSync(file, chunks.join(""));
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn("sh", ["-c", `redis-cli -h 127.0.0.1 -p ${port} --pipe < ${file}`], {
        stdio: "ignore",
      });
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`redis-cli --pipe exited ${code}`)),
      );
    });
  } finally {
    rmSync(file, { force: true });
  }
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
}

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString("en-US")} msgs/s`;

async function main(): Promise<void> {
  const redis = await startRedis();
  // The pipe publishes faster than any subscriber reads; let Redis buffer it instead of cutting the subscriber
  // off (the default pubsub output limit), so what is measured is how fast the relay drains it.
  await redis.client().config("SET", "client-output-buffer-limit", "pubsub 0 0 0");
  try {
    // 1. broker only
    {
      const b = broker(redis.url, "bench-broker");
      let got = 0;
      let batches = 0;
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      await b.start({
        message: (batch) => {
          got += batch.length;
          batches++;
          if (got >= MESSAGES) done();
        },
        health: () => undefined,
        presence: () => undefined,
        resync: (channel, position) => console.log(`unexpected resync on ${channel}`, position),
      });
      await b.subscribe("bench:broker");
      const { epoch } = await b.position("bench:broker");
      const pumping = pump(redis.port, "bench:broker", epoch, MESSAGES);
      await until(() => got > 0);
      const started = performance.now();
      await pumping;
      await finished;
      const ms = performance.now() - started;
      console.log(
        `broker relay: ${got} messages in ${ms.toFixed(0)} ms = ${rate(got, ms)} (${batches} batches)`,
      );
      await b.close();
    }

    // 2. one gateway process to SOCKETS WebSocket clients
    {
      const gw = await startGateway({
        env: {
          RTGW_BROKER: "redis",
          RTGW_REDIS_URL: redis.url,
          RTGW_NODE_ID: "bench-pod",
          RTGW_LOG_LEVEL: "warn",
        },
      });
      try {
        const counts = new Array<number>(SOCKETS).fill(0);
        const sockets = await Promise.all(
          counts.map(
            (_, i) =>
              new Promise<WebSocket>((resolve, reject) => {
                const ws = new WebSocket(gw.wsUrl);
                ws.on("error", reject);
                ws.on("message", (raw) => {
                  // Count message frames without parsing them: the client's cost is not what is measured.
                  const text = raw.toString();
                  if (text.includes('"type":"ack"')) resolve(ws);
                  let n = 0;
                  for (let at = text.indexOf(MARK); at !== -1; at = text.indexOf(MARK, at + 1)) n++;
                  counts[i] = (counts[i] ?? 0) + n;
                });
                ws.on("open", () =>
                  ws.send(JSON.stringify({ type: "subscribe", id: 1, channel: "bench:pod" })),
                );
              }),
          ),
        );
        const { epoch } = await (async () => {
          const b = broker(redis.url, "bench-reader");
          await b.start({ message: () => {}, health: () => {}, presence: () => {}, resync: () => {} });
          const p = await b.position("bench:pod");
          await b.close();
          return p;
        })();
        const pumping = pump(redis.port, "bench:pod", epoch, MESSAGES);
        await until(() => Math.min(...counts) > 0);
        const started = performance.now();
        const from = Math.min(...counts);
        await pumping;
        const deadline = Date.now() + 120_000;
        while (counts.some((c) => c < MESSAGES) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        const ms = performance.now() - started;
        const min = Math.min(...counts) - from;
        console.log(
          `pod relay (Redis → gateway → ${SOCKETS} sockets): ${min} messages per socket in ${ms.toFixed(0)} ms = ` +
            `${rate(min, ms)} from Redis, ${rate(min * SOCKETS, ms)} delivered`,
        );
        for (const ws of sockets) ws.close();
      } finally {
        await gw.stop();
      }
    }

    // 3. end to end through the publish script
    {
      const sub = broker(redis.url, "bench-e2e-sub");
      const pubs = [0, 1, 2, 3].map((i) => broker(redis.url, `bench-e2e-pub-${i}`));
      const total = Math.min(MESSAGES, 200_000);
      let got = 0;
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const noop = () => undefined;
      await sub.start({
        message: (batch) => {
          got += batch.length;
          if (got >= total) done();
        },
        health: noop,
        presence: noop,
        resync: noop,
      });
      for (const p of pubs) await p.start({ message: noop, health: noop, presence: noop, resync: noop });
      await sub.subscribe("bench:e2e");
      const started = performance.now();
      let next = 0;
      await Promise.all(
        pubs.flatMap((p) =>
          Array.from({ length: 64 }, async () => {
            while (next < total) {
              next++;
              await p.publish("bench:e2e", DATA);
            }
          }),
        ),
      );
      await finished;
      const ms = performance.now() - started;
      console.log(
        `publish script end to end (4 publishers, 1 subscriber): ${got} in ${ms.toFixed(0)} ms = ${rate(got, ms)}`,
      );
      await sub.close();
      for (const p of pubs) await p.close();
    }
  } finally {
    await redis.stop();
  }
}

await main();
