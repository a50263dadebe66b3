// @ts-check
// Connect and hold: ramp to TOTAL_CONNECTIONS (500,000 by default) WebSocket connections, each subscribed
// to one of CHANNELS channels, and hold them. One VU holds SOCKETS_PER_VU sockets (k6/websockets is
// event-driven, so a VU is not a thread per socket). Run distributed with testrun-500k.yaml.
//   k6 run -e TARGET=ws://gw/ws -e TOKEN=... -e TOTAL_CONNECTIONS=2000 loadtest/k6/connect-hold.js
import { check } from "k6";
import exec from "k6/execution";
import { Counter, Rate, Trend } from "k6/metrics";
import { setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { channelFor, envNumber, serverFrames, subscribeFrame, wsUrl } from "./lib.js";

const TOTAL = envNumber("TOTAL_CONNECTIONS", 500_000);
const PER_VU = envNumber("SOCKETS_PER_VU", 100);
const RAMP_SECONDS = envNumber("RAMP_SECONDS", 600);
const HOLD_SECONDS = envNumber("HOLD_SECONDS", 600);
const VUS = Math.ceil(TOTAL / PER_VU);

const connectFailed = new Rate("rtgw_connect_failed");
const subscribeMs = new Trend("rtgw_subscribe_ms", true);
const held = new Counter("rtgw_connections_opened");
const droppedEarly = new Counter("rtgw_connections_dropped");

export const options = {
  scenarios: {
    hold: {
      executor: "ramping-vus",
      startVUs: 0,
      stages: [
        { duration: `${RAMP_SECONDS}s`, target: VUS },
        { duration: `${HOLD_SECONDS}s`, target: VUS },
      ],
      gracefulRampDown: "30s",
      gracefulStop: "60s",
    },
  },
  thresholds: {
    rtgw_connect_failed: ["rate<0.001"],
    rtgw_subscribe_ms: ["p(99)<2000"],
    rtgw_connections_dropped: ["count<100"],
    // Every socket opened at least once (an empty Counter counts 0: a run that connected nothing fails).
    rtgw_connections_opened: ["count>0"],
    // One check per socket at its close: held until the end (a failed connect or an early drop fails it).
    checks: ["rate>0.99"],
  },
};

export default function () {
  // Each iteration opens PER_VU sockets and keeps them until the scenario's end (ramp + hold after its start),
  // so every VU, started early or late in the ramp, closes with the others instead of being cut at gracefulStop.
  const url = wsUrl();
  const endAt = exec.scenario.startTime + (RAMP_SECONDS + HOLD_SECONDS) * 1000;
  for (let i = 0; i < PER_VU; i++) {
    const n = exec.vu.idInTest * PER_VU + i;
    const channel = channelFor(n);
    const startedAt = Date.now();
    let opened = false;
    let closing = false;
    const ws = new WebSocket(url);
    ws.onopen = () => {
      opened = true;
      connectFailed.add(false);
      held.add(1);
      ws.send(subscribeFrame(1, channel, undefined));
      setTimeout(
        () => {
          closing = true;
          ws.close();
        },
        Math.max(0, endAt - Date.now()),
      );
    };
    ws.onmessage = (event) => {
      for (const frame of serverFrames(event?.data)) {
        if (frame.type === "ack" && frame.id === 1) subscribeMs.add(Date.now() - startedAt);
      }
    };
    ws.onerror = () => {
      if (!opened) connectFailed.add(true);
    };
    ws.onclose = () => {
      check(closing, { "connection held until the end": (c) => c === true });
      if (opened && !closing) droppedEarly.add(1);
    };
  }
}
