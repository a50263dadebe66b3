// `since` recovery is gap- and duplicate-free even when the broker answers slowly (as Redis does):
// the real server in-process over a memory broker whose subscribe/history/position resolve after random delays,
// while a stream is being published and subscribers join at random moments.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MessageFrame } from "../../protocol/index.js";
import { sleep } from "../../test-support/wait.js";
import type { Broker } from "../src/broker/broker.js";
import { createMemoryBroker } from "../src/broker/memory.js";
import { connect, type TestClient } from "./client.js";
import { inProcessGateway } from "./in-process.js";

/** The memory broker with every read answered 0-25 ms late (the answer taken at call time) and live delivery lagging. */
function slowBroker(inner: Broker): Broker {
  const late = async <T>(p: Promise<T>) => {
    const v = await p;
    await sleep(Math.random() * 25);
    return v;
  };
  return {
    ...inner,
    kind: inner.kind,
    // Live delivery lags too (in order), so history is often ahead of the live stream, as with Redis.
    start: (e) => {
      let chain = Promise.resolve();
      return inner.start({
        ...e,
        message: (batch) => {
          chain = chain.then(() => sleep(Math.random() * 15)).then(() => e.message(batch));
        },
      });
    },
    close: () => inner.close(),
    healthy: () => inner.healthy(),
    publish: (c, d) => inner.publish(c, d),
    subscribe: (c) => late(inner.subscribe(c)),
    unsubscribe: (c) => inner.unsubscribe(c),
    history: (c, s, e) => late(inner.history(c, s, e)),
    position: (c) => late(inner.position(c)),
  };
}

const slowMemoryGateway = () =>
  inProcessGateway(slowBroker(createMemoryBroker({ historySize: 10_000, historyTtlSeconds: 300 })));

describe("since recovery with a slow broker", { timeout: 60_000 }, () => {
  it("every subscriber sees exactly since+1..N, in order, whenever it joins", async () => {
    const { broker, url, stop } = await slowMemoryGateway();
    const clients: TestClient[] = [];
    try {
      const N = 600;
      let published = 0;
      const publishing = (async () => {
        for (let i = 1; i <= N; i++) {
          await broker.publish("stream", JSON.stringify(i));
          published = i;
          if (i % 3 === 0) await sleep(1);
        }
      })();
      const joins: { client: TestClient; since: number | undefined; ack: Promise<number> }[] = [];
      for (let k = 0; k < 24; k++) {
        await sleep(Math.random() * 25);
        const client = await connect(url);
        clients.push(client);
        const since = k % 4 === 3 ? undefined : Math.floor(Math.random() * (published + 1));
        const ack = client.request(
          { type: "subscribe", channel: "stream", ...(since === undefined ? {} : { since }) },
          10_000,
        );
        joins.push({
          client,
          since,
          ack: ack.then((a) => {
            assert.ok(a.type === "ack", JSON.stringify(a));
            if (since !== undefined) assert.equal(a.recovered, true);
            return a.offset ?? -1;
          }),
        });
      }
      await publishing;
      for (const j of joins) {
        const ackOffset = await j.ack;
        const from = (j.since ?? ackOffset) + 1;
        const offsets = () =>
          j.client.frames.filter((f): f is MessageFrame => f.type === "message").map((m) => m.offset);
        const deadline = Date.now() + 10_000;
        while ((offsets().at(-1) ?? from - 1) < N && Date.now() < deadline) await sleep(10);
        const want = Array.from({ length: N - from + 1 }, (_, i) => from + i);
        assert.deepEqual(offsets(), want, `since ${j.since}, ack ${ackOffset}`);
      }
    } finally {
      for (const c of clients) c.ws.terminate();
      await stop();
    }
  });

  it("a broker resync reaches the channel's subscribers as a resync frame", async () => {
    const { server, url, stop } = await slowMemoryGateway();
    const client = await connect(url);
    try {
      await client.request({ type: "subscribe", channel: "holey" });
      server.hub.resync("holey", { offset: 42, epoch: "e2" });
      const frame = await client.next((f) => f.type === "resync");
      assert.deepEqual(frame, {
        type: "resync",
        channel: "holey",
        epoch: "e2",
        offset: 42,
        recovered: false,
      });
    } finally {
      client.ws.terminate();
      await stop();
    }
  });
});
