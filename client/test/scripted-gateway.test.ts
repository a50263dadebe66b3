// The client against a scripted gateway (a `ws` server the test drives frame by frame): the cases a healthy
// real gateway never produces on demand: messages out of order and duplicated, recovered:false, resync frames,
// holes that never fill, close codes 1013/4001/1009, a silent socket, malformed frames, and the publish queue.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { sleep } from "../../test-support/wait.js";
import { type Client, type ConnectOptions, connect, type ResyncEvent, RtgwError } from "../src/index.js";
import { stateLog, until } from "./helpers.js";

interface ScriptedConnection {
  received: Array<Record<string, unknown>>;
  send(frame: unknown): void;
  close(code: number, reason?: string): void;
  readonly closed: boolean;
}

describe("client ⇄ scripted gateway", { timeout: 30_000 }, () => {
  let server: WebSocketServer;
  let url: string;
  const connections: ScriptedConnection[] = [];
  let clients: Client[] = [];
  /** Answer pings (on by default). */
  let answerPings = true;
  /** Close this many of the next connections with 1013 the moment they arrive. */
  let refuseNext = 0;

  before(async () => {
    server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => server.once("listening", () => r()));
    const address = server.address();
    url = `ws://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/ws`;
    server.on("connection", (ws) => {
      let closed = false;
      const conn: ScriptedConnection = {
        received: [],
        send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
        close: (code, reason) => ws.close(code, reason),
        get closed() {
          return closed;
        },
      };
      ws.on("close", () => {
        closed = true;
      });
      ws.on("message", (raw) => {
        const frame = JSON.parse(String(raw)) as Record<string, unknown>;
        conn.received.push(frame);
        if (frame.type === "ping" && answerPings) conn.send({ type: "pong", id: frame.id });
      });
      conn.send({ type: "welcome", connectionId: `c${connections.length + 1}`, node: "scripted" });
      connections.push(conn);
      if (refuseNext > 0) {
        refuseNext -= 1;
        conn.close(1013, "full");
      }
    });
  });
  afterEach(() => {
    for (const c of clients) c.close();
    clients = [];
    for (const c of connections.splice(0)) if (!c.closed) c.close(1000);
    answerPings = true;
    refuseNext = 0;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const open = (options: ConnectOptions = {}): Client => {
    const client = connect(url, { WebSocket, backoff: { baseMs: 10, maxMs: 40 }, ...options });
    client.on("error", () => {});
    clients.push(client);
    return client;
  };
  const nth = async (n: number): Promise<ScriptedConnection> => {
    await until(`connection ${n}`, () => connections.length >= n);
    return connections[n - 1]!;
  };
  const frameOf = async (
    conn: ScriptedConnection,
    type: string,
    index = 0,
  ): Promise<Record<string, unknown>> => {
    await until(`a ${type} frame`, () => conn.received.filter((f) => f.type === type).length > index);
    return conn.received.filter((f) => f.type === type)[index]!;
  };
  const msg = (channel: string, offset: number) => ({ type: "message", channel, offset, data: { offset } });

  it("hands over each message once and in order: early, out of order, duplicated, batched", async () => {
    const client = open();
    const got: number[] = [];
    const sub = client.subscribe("c:1", (data, meta) => {
      assert.deepEqual(data, { offset: meta.offset });
      got.push(meta.offset);
    });
    const conn = await nth(1);
    const subscribe = await frameOf(conn, "subscribe");
    conn.send(msg("c:1", 12)); // raced ahead of the ack
    conn.send({ type: "ack", id: subscribe.id, offset: 10, epoch: "e1", recovered: false });
    conn.send([msg("c:1", 11), msg("c:1", 10), msg("c:1", 14)]); // a batch: 10 is old news, 14 is early
    conn.send(msg("c:1", 11));
    conn.send(msg("c:1", 13));
    conn.send(msg("c:other", 1)); // not subscribed: ignored
    await until("11..14", () => got.length >= 4);
    assert.deepEqual(await sub.ready, { offset: 10, epoch: "e1", recovered: false });
    await sleep(30);
    assert.deepEqual(got, [11, 12, 13, 14]);
  });

  it("a resubscribe refused with unavailable is retried with backoff; forbidden ends the subscription", async () => {
    const client = open();
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));
    const got: number[] = [];
    const sub = client.subscribe("c:retry", (_d, meta) => got.push(meta.offset));
    const first = await nth(1);
    first.send({ type: "ack", id: (await frameOf(first, "subscribe")).id, offset: 0, epoch: "e1" });
    first.send(msg("c:retry", 1));
    await until("1", () => got.length === 1);
    first.close(1013, "full");

    // The new connection's gateway has lost its broker for a moment: refuse twice, then accept.
    const second = await nth(2);
    for (const attempt of [0, 1]) {
      const refused = await frameOf(second, "subscribe", attempt);
      assert.equal(refused.since, 1);
      second.send({ type: "error", id: refused.id, code: "unavailable", message: "broker down" });
    }
    const third = await frameOf(second, "subscribe", 2);
    assert.deepEqual([third.since, third.epoch], [1, "e1"]);
    second.send({ type: "ack", id: third.id, offset: 1, epoch: "e1", recovered: true });
    second.send(msg("c:retry", 2));
    await until("2", () => got.includes(2));
    assert.deepEqual(got, [1, 2]);
    assert.deepEqual(await sub.ready, { offset: 0, epoch: "e1", recovered: undefined });
    assert.ok(errors.some((e) => e.code === "unavailable" && e.details.channel === "c:retry"));

    // A refusal no retry can change ends it: no more subscribes for the channel, and messages are not handed over.
    const other = client.subscribe("c:gone", () => assert.fail("not subscribed"));
    const refusedFor = await frameOf(second, "subscribe", 3);
    assert.equal(refusedFor.channel, "c:gone");
    second.send({ type: "error", id: refusedFor.id, code: "forbidden", message: "no" });
    await assert.rejects(other.ready, (e: unknown) => e instanceof RtgwError && e.code === "forbidden");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(second.received.filter((f) => f.type === "subscribe").length, 4);
  });

  it("reconnects after 1013 and 4001, resubscribing with since/epoch; recovered:false and resync become events", async () => {
    const client = open();
    const states = stateLog(client);
    const got: number[] = [];
    const resyncs: ResyncEvent[] = [];
    client.on("resync", (e) => resyncs.push(e));
    client.subscribe("c:2", (_d, meta) => got.push(meta.offset));
    const first = await nth(1);
    first.send({ type: "ack", id: (await frameOf(first, "subscribe")).id, offset: 0, epoch: "e1" });
    first.send([msg("c:2", 1), msg("c:2", 2)]);
    await until("1..2", () => got.length === 2);
    first.close(1013, "full");

    const second = await nth(2);
    const resume = await frameOf(second, "subscribe");
    assert.equal(resume.since, 2);
    assert.equal(resume.epoch, "e1");
    second.send({ type: "ack", id: resume.id, offset: 40, epoch: "e1", recovered: false });
    second.send(msg("c:2", 41));
    await until("41", () => got.includes(41));
    second.send({ type: "resync", channel: "c:2", epoch: "e2", offset: 7, recovered: false });
    second.send(msg("c:2", 8));
    await until("8", () => got.includes(8));
    second.close(4001, "slow consumer");

    const third = await nth(3);
    const again = await frameOf(third, "subscribe");
    assert.equal(again.since, 8);
    assert.equal(again.epoch, "e2");

    assert.deepEqual(got, [1, 2, 41, 8]);
    assert.deepEqual(
      resyncs.map((r) => [r.reason, r.previousOffset, r.offset, r.epoch]),
      [
        ["not_recovered", 2, 40, "e1"],
        ["server_resync", 41, 7, "e2"],
      ],
    );
    const closes = states.filter((s) => s.state === "disconnected").map((s) => s.closeCode);
    assert.deepEqual(closes, [1013, 4001]);
  });

  it("reports a hole that does not fill within gapTimeoutMs, then goes on", async () => {
    const client = open({ gapTimeoutMs: 50 });
    const got: number[] = [];
    const resyncs: ResyncEvent[] = [];
    client.on("resync", (e) => resyncs.push(e));
    client.subscribe("c:3", (_d, meta) => got.push(meta.offset));
    const conn = await nth(1);
    conn.send({ type: "ack", id: (await frameOf(conn, "subscribe")).id, offset: 0, epoch: "e" });
    conn.send([msg("c:3", 1), msg("c:3", 4), msg("c:3", 5)]);
    await until("the gap to be skipped", () => got.length === 3);
    assert.deepEqual(got, [1, 4, 5]);
    assert.deepEqual(
      resyncs.map((r) => [r.reason, r.previousOffset, r.offset]),
      [["gap", 1, 3]],
    );
    conn.send(msg("c:3", 2)); // too late: already reported
    conn.send(msg("c:3", 6));
    await until("6", () => got.includes(6));
    assert.deepEqual(got, [1, 4, 5, 6]);
  });

  it("queues publishes while disconnected (bounded), sends them in order on reconnect; in-flight ones fail", async () => {
    const client = open({
      maxQueuedPublishes: 2,
      backoff: { baseMs: 1_000, maxMs: 1_000 },
      random: () => 0.999,
    });
    const first = await nth(1);
    await until("connected", () => client.state === "connected");
    const inFlight = client.publish("c:4", { n: 0 });
    await frameOf(first, "publish");
    first.close(1012, "restart");
    await assert.rejects(inFlight, (e: unknown) => e instanceof RtgwError && e.code === "disconnected");
    await until("reconnecting", () => client.state === "reconnecting");

    const queued = [client.publish("c:4", { n: 1 }), client.publish("c:4", { n: 2 })];
    await assert.rejects(
      client.publish("c:4", { n: 3 }),
      (e: unknown) => e instanceof RtgwError && e.code === "queue_full",
    );

    const second = await nth(2);
    const p1 = await frameOf(second, "publish", 0);
    const p2 = await frameOf(second, "publish", 1);
    assert.deepEqual([p1.data, p2.data], [{ n: 1 }, { n: 2 }]);
    second.send({ type: "ack", id: p2.id, offset: 8, epoch: "e" });
    second.send({ type: "error", id: p1.id, code: "unavailable", message: "broker down" });
    await assert.rejects(queued[0]!, (e: unknown) => e instanceof RtgwError && e.code === "unavailable");
    assert.deepEqual(await queued[1], { offset: 8 });
  });

  it("backs off wider after each quick failure and starts over once a connection stayed up", async () => {
    refuseNext = 3; // refused on arrival, three times
    const client = open({ backoff: { baseMs: 100, maxMs: 1_000 }, random: () => 0.999, stableAfterMs: 300 });
    const states = stateLog(client);
    const stable = await nth(4);
    await until("connected", () => client.state === "connected");
    await sleep(400); // past stableAfterMs
    stable.close(1013, "full");
    await nth(5);
    assert.deepEqual(
      states.filter((s) => s.state === "reconnecting").map((s) => s.retryInMs),
      [100, 200, 400, 100],
    );
  });

  it("1009 is terminal: every waiting request and subscription fails with the close", async () => {
    const client = open();
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));
    const sub = client.subscribe("c:5", () => {});
    const conn = await nth(1);
    await frameOf(conn, "subscribe");
    conn.close(1009, "too big");
    await assert.rejects(sub.ready, (e: unknown) => e instanceof RtgwError && e.code === "terminal_close");
    await until("closed", () => client.state === "closed");
    assert.equal(errors.find((e) => e.code === "terminal_close")?.details.closeCode, 1009);
    await sleep(150);
    assert.equal(connections.length, 1, "no reconnect");
  });

  it("a silent socket is abandoned after an unanswered ping, and the client reconnects", async () => {
    answerPings = false;
    const client = open({ pingIntervalMs: 50, requestTimeoutMs: 100 });
    const states = stateLog(client);
    await nth(1);
    await nth(2);
    assert.ok(
      states.some((s) => s.state === "disconnected" && s.closeCode === 4000),
      JSON.stringify(states),
    );
  });

  it("an unanswered publish times out; a malformed frame is reported and skipped", async () => {
    const client = open({ requestTimeoutMs: 300, pingIntervalMs: 0 });
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));
    const got: number[] = [];
    client.subscribe("c:6", (_d, meta) => got.push(meta.offset));
    const conn = await nth(1);
    conn.send({ type: "ack", id: (await frameOf(conn, "subscribe")).id, offset: 0 });
    await assert.rejects(
      client.publish("c:6", 1),
      (e: unknown) => e instanceof RtgwError && e.code === "timeout",
    );
    conn.send("{not json");
    conn.send({ type: "message", channel: "c:6", offset: -1, data: 1 });
    conn.send(msg("c:6", 1));
    await until("1", () => got.length === 1);
    assert.equal(errors.filter((e) => e.code === "protocol").length, 2);
    assert.equal(client.state, "connected");
  });

  it("a throwing handler is reported and does not stop the others or the stream", async () => {
    const client = open();
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));
    const got: number[] = [];
    client.subscribe("c:7", () => {
      throw new Error("app bug");
    });
    client.subscribe("c:7", (_d, meta) => got.push(meta.offset));
    const conn = await nth(1);
    const subscribes = () => conn.received.filter((f) => f.type === "subscribe");
    await until("subscribe", () => subscribes().length === 1);
    conn.send({ type: "ack", id: subscribes()[0]!.id, offset: 0 });
    conn.send([msg("c:7", 1), msg("c:7", 2)]);
    await until("1..2", () => got.length === 2);
    assert.equal(subscribes().length, 1, "one subscribe frame for two handlers");
    assert.equal(errors.filter((e) => e.code === "handler").length, 2);
  });

  it("server-side channels: a subscribed event, then their messages as message events; forgotten on reconnect", async () => {
    const client = open();
    const errors: RtgwError[] = [];
    client.on("error", (e) => errors.push(e));
    const subscribed: Array<{ channel: string; offset: number }> = [];
    client.on("subscribed", ({ channel, offset }) => subscribed.push({ channel, offset }));
    const got: Array<{ channel: string; offset: number; data: unknown }> = [];
    client.on("message", (m) => got.push(m));
    const conn = await nth(1);
    conn.send(msg("news", 1)); // before any `subscribed`: not a channel of this connection, ignored
    conn.send({ type: "subscribed", channel: "news", offset: 3, epoch: "e1" });
    conn.send([msg("news", 4), msg("news", 5)]);
    await until("4..5", () => got.length === 2);
    assert.deepEqual(subscribed, [{ channel: "news", offset: 3 }]);
    assert.deepEqual(
      got.map((m) => [m.channel, m.offset, m.data]),
      [
        ["news", 4, { offset: 4 }],
        ["news", 5, { offset: 5 }],
      ],
    );
    assert.equal(errors.length, 0, "the subscribed frame is understood");
    conn.close(1012, "restart");
    const second = await nth(2);
    second.send(msg("news", 6)); // the new connection did not get it from the server: not delivered
    second.send({ type: "pong", id: 0 });
    await sleep(50);
    assert.equal(got.length, 2);
    assert.equal(second.received.filter((f) => f.type === "subscribe").length, 0, "never resubscribed");
  });
});
