// The hub's side of "every offset once, in order, or a resync", at the edges a real broker reaches only by
// chance: the test plays the broker (it answers position/history reads when it wants, and drives live delivery
// and resyncs itself) against the real server in this process.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { MessageFrame, ServerFrame } from "../../protocol/index.js";
import type { Broker, BrokerMessage, HistoryResult } from "../src/broker/broker.js";
import { connect, type TestClient } from "./client.js";
import { inProcessGateway } from "./in-process.js";

/** A broker whose reads wait until the test answers them; live delivery is the test's hub.deliver/hub.resync. */
function scriptedBroker() {
  const reads: Array<{ channel: string; since: number | undefined; answer: (h: HistoryResult) => void }> = [];
  const broker: Broker = {
    kind: "memory",
    start: async () => {},
    close: async () => {},
    healthy: () => true,
    publish: async () => ({ offset: 0, epoch: "x" }),
    subscribe: async () => {},
    unsubscribe: async () => {},
    history: (channel, since) => new Promise((answer) => reads.push({ channel, since, answer })),
    position: (channel) =>
      new Promise((resolve) =>
        reads.push({
          channel,
          since: undefined,
          answer: (h) => resolve({ offset: h.offset, epoch: h.epoch }),
        }),
      ),
    presenceJoin: async () => {},
    presenceLeave: async () => {},
    presenceList: async () => [],
    sendControl: async () => 0,
    reportNode: async () => {},
    nodes: async () => [],
  };
  const nextRead = async () => {
    const deadline = Date.now() + 5000;
    while (reads.length === 0) {
      assert.ok(Date.now() < deadline, "the hub never read the position/history");
      await new Promise((r) => setTimeout(r, 5));
    }
    return reads.shift() as (typeof reads)[number];
  };
  return { broker, nextRead };
}

const m = (offset: number, epoch: string, channel = "c"): BrokerMessage => ({
  channel,
  offset,
  epoch,
  data: String(offset),
  publishedAt: Date.now(),
});
const range = (from: number, to: number, epoch: string, channel = "c") =>
  Array.from({ length: to - from + 1 }, (_, i) => m(from + i, epoch, channel));

/** A client's frames for a channel, as "ack E@o", "resync E@o", "E:o" (message, with its epoch mark if any). */
function story(frames: readonly ServerFrame[], channel = "c"): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (f.type === "ack") out.push(`ack ${f.epoch}@${f.offset}`);
    else if (f.type === "resync" && f.channel === channel) out.push(`resync ${f.epoch}@${f.offset}`);
    else if (f.type === "message" && f.channel === channel) {
      const mark = (f as MessageFrame & { epoch?: string }).epoch;
      out.push(`${mark === undefined ? "" : `${mark}:`}${f.offset}`);
    }
  }
  return out;
}

const clients: TestClient[] = [];
const stops: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of clients) c.ws.terminate();
  for (const stop of stops) await stop();
});

async function setup(env: Record<string, string> = {}) {
  const { broker, nextRead } = scriptedBroker();
  const gw = await inProcessGateway(broker, env);
  stops.push(gw.stop);
  const client = await connect(gw.url);
  clients.push(client);
  return { hub: gw.server.hub, client, nextRead };
}

describe("hub: big batches", { timeout: 60_000 }, () => {
  it("a live batch of 200,000 messages while a socket is subscribing is buffered and replayed whole", async () => {
    const { hub, client, nextRead } = await setup({ RTGW_MAX_BACKPRESSURE_BYTES: String(256 * 1024 * 1024) });
    client.send({ type: "subscribe", id: 1, channel: "c" });
    const read = await nextRead();
    const N = 200_000;
    hub.deliver(range(1, N, "E1"));
    read.answer({ offset: 0, epoch: "E1", messages: [], complete: true });
    await client.next((f) => f.type === "message" && f.offset === N, 30_000);
    const offsets = client.frames.filter((f) => f.type === "message").map((f) => (f as MessageFrame).offset);
    assert.equal(offsets.length, N);
    assert.ok(offsets.every((o, i) => o === i + 1));
  });
});

describe("hub: an epoch change while a socket subscribes", { timeout: 60_000 }, () => {
  it("phase 1 (reading the position): the change reaches the socket as a resync before the new epoch", async () => {
    const { hub, client, nextRead } = await setup();
    client.send({ type: "subscribe", id: 1, channel: "c" });
    const read = await nextRead();
    hub.deliver(range(5, 6, "E1"));
    hub.resync("c", { offset: 0, epoch: "E2" });
    hub.deliver(range(1, 2, "E2"));
    read.answer({ offset: 4, epoch: "E1", messages: [], complete: true });
    await client.next((f) => f.type === "message" && f.offset === 2);
    hub.deliver(range(3, 3, "E2"));
    await client.next((f) => f.type === "message" && f.offset === 3);
    assert.deepEqual(story(client.frames), ["ack E1@4", "5", "6", "resync E2@0", "E2:1", "2", "3"]);
  });

  it("phase 1, the position read after the change: the old epoch's stragglers are not replayed", async () => {
    const { hub, client, nextRead } = await setup();
    client.send({ type: "subscribe", id: 1, channel: "c", since: 3, epoch: "E1" });
    const read = await nextRead();
    hub.deliver(range(5, 6, "E1"));
    hub.resync("c", { offset: 0, epoch: "E2" });
    hub.deliver(range(1, 2, "E2"));
    read.answer({ offset: 1, epoch: "E2", messages: range(1, 1, "E2"), complete: false });
    await client.next((f) => f.type === "message" && f.offset === 2);
    hub.deliver(range(3, 3, "E2"));
    await client.next((f) => f.type === "message" && f.offset === 3);
    assert.deepEqual(story(client.frames), ["ack E2@1", "2", "3"]);
  });

  it("phase 2 (replayed, live behind): a resync before the new epoch, which is marked; then the topic", async () => {
    const { hub, client, nextRead } = await setup();
    client.send({ type: "subscribe", id: 1, channel: "c", since: 0 });
    const read = await nextRead();
    hub.deliver(range(1, 2, "E1"));
    read.answer({ offset: 4, epoch: "E1", messages: range(1, 4, "E1"), complete: true });
    await client.next((f) => f.type === "message" && f.offset === 4);
    hub.deliver(range(3, 3, "E1")); // still behind what the socket had
    hub.resync("c", { offset: 0, epoch: "E2" });
    hub.deliver(range(1, 1, "E2"));
    await client.next((f) => f.type === "message" && f.offset === 1);
    hub.deliver(range(2, 2, "E2"));
    hub.resync("c", { offset: 0, epoch: "E3" });
    hub.deliver(range(1, 1, "E3"));
    await client.next(
      (f) => f.type === "message" && f.offset === 1 && (f as { epoch?: string }).epoch === "E3",
    );
    assert.deepEqual(story(client.frames), [
      "ack E1@4",
      "1",
      "2",
      "3",
      "4",
      "resync E2@0",
      "E2:1",
      "2",
      "resync E3@0",
      "E3:1",
    ]);
  });
});
