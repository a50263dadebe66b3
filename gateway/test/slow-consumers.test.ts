// Slow consumers among many quiet sockets, against a real gateway: a reader that stops reading on a busy
// channel is closed with 4001 and counted, while hundreds of sockets on quiet channels (some of which never
// read either) and a healthy reader on the busy channel stay open.
import assert from "node:assert/strict";
import { type Socket as TcpSocket, connect as tcpConnect } from "node:net";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import {
  decodeClose,
  encodeText,
  FrameReader,
  Opcode,
  type WsFrame,
} from "../../loadtest/src/ws/frame-codec.js";
import { expectedAccept, newSecWebSocketKey, upgradeRequest } from "../../loadtest/src/ws/handshake.js";
import { CloseCode, decodeServerFrames } from "../../protocol/index.js";
import { startGateway, stopAllGateways } from "../../test-support/gateway.js";
import { until } from "../../test-support/wait.js";
import { connect, metric, type TestClient } from "./client.js";

/** A WebSocket on a plain TCP socket we control: it can stop reading (pause) and resume later. */
interface RawClient {
  socket: TcpSocket;
  /** Frames received while reading. */
  frames: WsFrame[];
  /** Resolves when the TCP socket closed. */
  ended: Promise<void>;
}

async function rawClient(port: number): Promise<RawClient> {
  const socket = tcpConnect(port, "127.0.0.1");
  socket.on("error", () => {});
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise((resolve) => socket.once("connect", resolve));
  const key = newSecWebSocketKey();
  socket.write(upgradeRequest(`127.0.0.1:${port}`, "/ws", key));
  const reader = new FrameReader();
  const frames: WsFrame[] = [];
  let head = Buffer.alloc(0);
  let upgraded = false;
  socket.on("data", (chunk: Buffer) => {
    if (upgraded) {
      frames.push(...reader.push(chunk));
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    assert.match(head.subarray(0, end).toString(), new RegExp(expectedAccept(key).replace(/[+/]/g, "\\$&")));
    upgraded = true;
    frames.push(...reader.push(head.subarray(end + 4)));
  });
  await until("the upgrade", () => upgraded);
  return { socket, frames, ended };
}

/** Subscribe and wait for the ack (the socket reads meanwhile). */
async function rawSubscribe(c: RawClient, channel: string, id: number): Promise<void> {
  c.socket.write(encodeText(JSON.stringify({ type: "subscribe", id, channel })));
  await until(`the ack of subscribe ${id}`, () =>
    c.frames.some(
      (f) =>
        f.opcode === Opcode.Text &&
        decodeServerFrames(f.payload.toString()).some((s) => s.type === "ack" && s.id === id),
    ),
  );
}

const QUIET_CHANNELS = 40;
const QUIET_READERS = 400;
const QUIET_STUCK = 20;
const BOUND = 65_536;

describe("slow consumers among many quiet sockets", { timeout: 120_000 }, () => {
  it("closes (4001) and counts only the stuck reader on the busy channel", async () => {
    const gw = await startGateway({
      env: {
        RTGW_MAX_BACKPRESSURE_BYTES: String(BOUND),
        RTGW_PUBLISH_RATE: "100000",
        RTGW_PUBLISH_BURST: "100000",
      },
    });
    const quiet: TestClient[] = [];
    const quietStuck: RawClient[] = [];
    let stuck: RawClient | undefined;
    let reader: TestClient | undefined;
    try {
      for (let i = 0; i < QUIET_READERS; i++) quiet.push(await connect(gw.wsUrl));
      await Promise.all(
        quiet.map((c, i) => c.request({ type: "subscribe", channel: `quiet:${i % QUIET_CHANNELS}` })),
      );
      // Quiet sockets that never read: their channels get a message now and then, far below the bound.
      for (let i = 0; i < QUIET_STUCK; i++) {
        const c = await rawClient(gw.port);
        await rawSubscribe(c, `quiet:${i % QUIET_CHANNELS}`, 1);
        c.socket.pause();
        quietStuck.push(c);
      }
      stuck = await rawClient(gw.port);
      await rawSubscribe(stuck, "busy", 1);
      stuck.socket.pause(); // never reads again: the kernel buffers fill, then the gateway's send buffer
      reader = await connect(gw.wsUrl);
      await reader.request({ type: "subscribe", channel: "busy" });

      // Publish in small windows, each delivered to the healthy reader before the next, so only the stuck
      // reader falls behind; now and then a message on a quiet channel, so quiet channels are swept too.
      const data = "x".repeat(8000);
      let offset = 0;
      for (let window = 0; window < 800; window++) {
        if ((await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total")) >= 1) break;
        const acks = [];
        for (let i = 0; i < 8; i++)
          acks.push(reader.request({ type: "publish", channel: "busy", data }, 15_000));
        if (window % 20 === 0)
          acks.push(
            reader.request({ type: "publish", channel: `quiet:${window % QUIET_CHANNELS}`, data: window }),
          );
        await Promise.all(acks);
        offset += 8;
        const last = offset;
        await reader.next((f) => f.type === "message" && f.channel === "busy" && f.offset === last, 15_000);
      }
      assert.equal(await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total"), 1);

      // The stuck reader, reading again, finds everything it was sent, then the close frame: 4001.
      const closed = stuck;
      closed.socket.resume();
      await until(
        "the stuck reader's close frame",
        () => closed.frames.some((f) => f.opcode === Opcode.Close),
        30_000,
      );
      const close = closed.frames.find((f) => f.opcode === Opcode.Close) as WsFrame;
      assert.equal(decodeClose(close.payload).code, CloseCode.SlowConsumer);
      await closed.ended;

      // Everyone else is still there and served.
      await reader.request({ type: "ping" });
      await quiet[1]?.request({ type: "ping" });
      assert.ok(quiet.every((c) => c.ws.readyState === WebSocket.OPEN));
      const stats = (await (await fetch(`${gw.url}/api/stats`)).json()) as { connections: number };
      assert.equal(stats.connections, QUIET_READERS + QUIET_STUCK + 1);
      assert.ok(quietStuck.every((c) => !c.socket.destroyed && c.socket.readyState === "open"));
      assert.equal(await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total"), 1);
    } finally {
      for (const c of quiet) c.ws.terminate();
      for (const c of quietStuck) c.socket.destroy();
      stuck?.socket.destroy();
      reader?.ws.terminate();
      await gw.stop();
    }
  });
});

after(stopAllGateways);
