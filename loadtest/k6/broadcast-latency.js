// @ts-check
// Broadcast latency: SUBSCRIBERS sockets on CHANNELS channels; a publisher scenario POSTs to /api/publish
// at PUBLISH_RATE messages/s carrying its send time; receivers record publish-to-receive latency.
// Runner clocks must be NTP-synced when distributed (skew adds to the figure).
//   k6 run -e TARGET=ws://gw/ws -e HTTP=http://gw -e API_KEY=... loadtest/k6/broadcast-latency.js
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import { setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { channelFor, env, envNumber, serverFrames, subscribeFrame, wsUrl } from "./lib.js";

const SUBSCRIBERS = envNumber("SUBSCRIBERS", 10_000);
const PER_VU = envNumber("SOCKETS_PER_VU", 100);
const CHANNELS = envNumber("CHANNELS", 100);
const PUBLISH_RATE = envNumber("PUBLISH_RATE", 100);
const WARMUP_SECONDS = envNumber("WARMUP_SECONDS", 60);
const SECONDS = envNumber("SECONDS", 120);

const latency = new Trend("rtgw_delivery_latency", true);
const connectFailed = new Rate("rtgw_connect_failed");
const publishFailed = new Rate("rtgw_publish_failed");
const delivered = new Counter("rtgw_deliveries");
const gaps = new Counter("rtgw_offset_gaps");

export const options = {
  scenarios: {
    subscribers: {
      executor: "per-vu-iterations",
      vus: Math.ceil(SUBSCRIBERS / PER_VU),
      iterations: 1,
      maxDuration: `${WARMUP_SECONDS + SECONDS + 60}s`,
      exec: "subscribe",
    },
    publisher: {
      executor: "constant-arrival-rate",
      rate: PUBLISH_RATE,
      timeUnit: "1s",
      duration: `${SECONDS}s`,
      startTime: `${WARMUP_SECONDS}s`,
      preAllocatedVUs: 20,
      maxVUs: 200,
      exec: "publish",
    },
  },
  thresholds: {
    rtgw_delivery_latency: ["p(99)<250", "p(50)<50"],
    rtgw_connect_failed: ["rate<0.001"],
    rtgw_publish_failed: ["rate<0.001"],
    rtgw_offset_gaps: ["count==0"],
    // Something was delivered (an empty Trend reads 0 and would pass the latency thresholds on no data).
    rtgw_deliveries: ["count>0"],
    checks: ["rate>0.999"],
  },
};

export function subscribe() {
  const url = wsUrl();
  const holdMs = (WARMUP_SECONDS + SECONDS + 10) * 1000;
  for (let i = 0; i < PER_VU; i++) {
    const n = exec.vu.idInTest * PER_VU + i;
    const channel = channelFor(n);
    /** @type {number | undefined} */
    let last;
    let opened = false;
    const ws = new WebSocket(url);
    ws.onopen = () => {
      opened = true;
      connectFailed.add(false);
      ws.send(subscribeFrame(1, channel, undefined));
      setTimeout(() => ws.close(), holdMs);
    };
    ws.onmessage = (event) => {
      const now = Date.now();
      for (const frame of serverFrames(event?.data)) {
        if (frame.type === "ack" && frame.id === 1 && last === undefined) last = frame.offset ?? 0;
        if (frame.type !== "message" || typeof frame.offset !== "number") continue;
        delivered.add(1);
        if (last !== undefined && frame.offset !== last + 1) gaps.add(1);
        last = frame.offset;
        if (frame.data && typeof frame.data.ts === "number") latency.add(now - frame.data.ts);
      }
    };
    ws.onerror = () => {
      if (!opened) connectFailed.add(true);
    };
  }
}

export function publish() {
  // The scenario-wide iteration number: module state such as a `let seq` is per VU in k6, and the publisher's
  // VUs would each restart at 0 (uneven channels, repeated seq).
  const seq = exec.scenario.iterationInTest;
  const channel = `${env("CHANNEL_PREFIX", "load:")}${seq % CHANNELS}`;
  const response = http.post(
    `${env("HTTP", "http://realtime-gateway.default.svc")}/api/publish`,
    JSON.stringify({ channel, data: { ts: Date.now(), seq } }),
    { headers: { "content-type": "application/json", authorization: `Bearer ${env("API_KEY", "")}` } },
  );
  publishFailed.add(response.status !== 200);
  check(response, { "publish answered 200": (r) => r.status === 200 });
}
