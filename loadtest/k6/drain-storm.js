// @ts-check
// Drain / reconnect storm: CONNECTIONS sockets subscribed while messages flow; at DRAIN_AT seconds one
// gateway is drained: POST /admin/drain on one pod's internal port (ADMIN_URL, e.g. http://<pod IP>:9090, with
// ADMIN_KEY from the `<name>-admin` Secret: /admin/* is not on the client Service), or, without ADMIN_URL, by
// hand at DRAIN_AT (`kubectl delete pod <one gateway pod>` or `kubectl rollout restart`). Each socket follows the protocol: on `reconnect` it waits `afterMs`, reconnects, and resubscribes
// with `since` = its last offset. Thresholds: no gap, no duplicate, reconnects spread (not a thundering herd).
//   k6 run -e TARGET=ws://gw/ws -e HTTP=http://gw -e API_KEY=... [-e ADMIN_URL=http://pod:9090 -e ADMIN_KEY=...] \
//     loadtest/k6/drain-storm.js
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import { setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { channelFor, env, envNumber, serverFrames, subscribeFrame, wsUrl } from "./lib.js";

const CONNECTIONS = envNumber("CONNECTIONS", 20_000);
const PER_VU = envNumber("SOCKETS_PER_VU", 100);
const CHANNELS = envNumber("CHANNELS", 100);
const PUBLISH_RATE = envNumber("PUBLISH_RATE", 50);
const DRAIN_AT = envNumber("DRAIN_AT", 60);
const SECONDS = envNumber("SECONDS", 180);
const HTTP_BASE = env("HTTP", "http://realtime-gateway.default.svc");

const lost = new Counter("rtgw_lost");
const duplicated = new Counter("rtgw_duplicated");
const reconnects = new Counter("rtgw_reconnects");
/** When each reconnect happened, in seconds after the drain: the spread of the storm. */
const reconnectAt = new Trend("rtgw_reconnect_after_drain_s");
const connectFailed = new Rate("rtgw_connect_failed");

export const options = {
  scenarios: {
    clients: {
      executor: "per-vu-iterations",
      vus: Math.ceil(CONNECTIONS / PER_VU),
      iterations: 1,
      maxDuration: `${SECONDS + 60}s`,
      exec: "clients",
    },
    publisher: {
      executor: "constant-arrival-rate",
      rate: PUBLISH_RATE,
      timeUnit: "1s",
      duration: `${SECONDS - 20}s`,
      startTime: "10s",
      preAllocatedVUs: 10,
      maxVUs: 100,
      exec: "publish",
    },
    drainer: {
      executor: "shared-iterations",
      vus: 1,
      iterations: 1,
      startTime: `${DRAIN_AT}s`,
      exec: "drain",
    },
  },
  thresholds: {
    rtgw_lost: ["count==0"],
    rtgw_duplicated: ["count==0"],
    rtgw_connect_failed: ["rate<0.01"],
    // A drain spreads closes over RTGW_DRAIN_SECONDS: the middle of the storm should not all land at once.
    rtgw_reconnect_after_drain_s: ["p(50)>2"],
    // The drain happened and clients came back (an empty Counter counts 0).
    rtgw_reconnects: ["count>0"],
    checks: ["rate>0.99"],
  },
};

/** @param {number} n */
function client(n) {
  // The clients scenario starts with the test; the drainer DRAIN_AT seconds later.
  const drainStartedAt = exec.scenario.startTime + DRAIN_AT * 1000;
  const channel = channelFor(n);
  const endAt = Date.now() + SECONDS * 1000;
  /** @type {number | undefined} */
  let last;
  let afterMs = 1000;
  let attempt = 0;
  const open = () => {
    if (Date.now() > endAt) return;
    let opened = false;
    const ws = new WebSocket(wsUrl());
    ws.onopen = () => {
      opened = true;
      connectFailed.add(false);
      if (attempt > 0) {
        reconnects.add(1);
        reconnectAt.add((Date.now() - drainStartedAt) / 1000);
      }
      ws.send(subscribeFrame(1, channel, last));
      setTimeout(() => ws.close(), Math.max(0, endAt - Date.now()));
    };
    ws.onmessage = (event) => {
      for (const frame of serverFrames(event?.data)) {
        if (frame.type === "ack" && frame.id === 1 && last === undefined) last = frame.offset ?? 0;
        else if (frame.type === "reconnect") afterMs = frame.afterMs ?? 1000;
        else if (frame.type === "message" && typeof frame.offset === "number") {
          if (last !== undefined && frame.offset <= last) duplicated.add(1);
          else if (last !== undefined && frame.offset > last + 1) lost.add(frame.offset - last - 1);
          if (last === undefined || frame.offset > last) last = frame.offset;
        }
      }
    };
    ws.onerror = () => {
      if (!opened) connectFailed.add(true);
    };
    ws.onclose = () => {
      if (Date.now() >= endAt) return;
      attempt++;
      // The server's afterMs on a drain; otherwise capped exponential backoff with full jitter.
      const wait = afterMs > 0 ? afterMs : Math.random() * Math.min(10_000, 250 * 2 ** attempt);
      afterMs = 0;
      setTimeout(open, wait);
    };
  };
  open();
}

export function clients() {
  for (let i = 0; i < PER_VU; i++) client(exec.vu.idInTest * PER_VU + i);
}

export function publish() {
  // Scenario-wide, not a per-VU `let seq` (module state is per VU in k6).
  const seq = exec.scenario.iterationInTest;
  const channel = `${env("CHANNEL_PREFIX", "load:")}${seq % CHANNELS}`;
  const response = http.post(
    `${HTTP_BASE}/api/publish`,
    JSON.stringify({ channel, data: { ts: Date.now(), seq } }),
    {
      headers: { "content-type": "application/json", authorization: `Bearer ${env("API_KEY", "")}` },
    },
  );
  check(response, { "publish answered 200": (r) => r.status === 200 });
}

export function drain() {
  const admin = env("ADMIN_URL", "");
  if (admin === "") return; // drained from outside (kubectl); the reconnect thresholds still demand a storm
  const response = http.post(`${admin}/admin/drain`, null, {
    headers: { authorization: `Bearer ${env("ADMIN_KEY", "")}` },
  });
  check(response, { "drain accepted": (r) => r.status >= 200 && r.status < 300 });
}
