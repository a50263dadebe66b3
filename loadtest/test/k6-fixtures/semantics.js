// @ts-check
// k6 semantics the runtime must keep, as checks (all must pass): module state and __VU/__ITER per VU, timers
// keeping an iteration alive, and k6/websockets' event order for a refused connect and a normal close.
import { check } from "k6";
import exec from "k6/execution";
import { setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";

let calls = 0;

export const options = {
  scenarios: { each: { executor: "per-vu-iterations", vus: 3, iterations: 2, maxDuration: "30s" } },
  // The iteration lasts until its 300 ms timer fired; Node's timers run on the loop's millisecond clock, so one can
  // fire a few microseconds before 300 ms by performance.now() (299.988 was seen): allow that, not a skipped wait.
  thresholds: { checks: ["rate==1"], iteration_duration: ["min>=290"] },
};

export default function () {
  calls++;
  check(calls, {
    "module state is per VU": (c) => c === __ITER + 1,
    "__VU is exec.vu.idInTest": () => __VU === exec.vu.idInTest && __VU >= 1 && __VU <= 3,
  });
  /** @type {string[]} */
  const refused = [];
  const dead = new WebSocket(__ENV.REFUSED_URL);
  dead.onopen = () => refused.push("open");
  dead.onerror = () => refused.push("error");
  dead.onclose = () => {
    refused.push("close");
    check(refused.join(","), { "refused connect: error, then close": (o) => o === "error,close" });
  };
  /** @type {string[]} */
  const normal = [];
  const ws = new WebSocket(__ENV.TARGET);
  ws.onopen = () => {
    normal.push("open");
    ws.close();
  };
  ws.onerror = () => normal.push("error");
  ws.onclose = () => {
    normal.push("close");
    check(normal.join(","), { "client close: open, then close (no error)": (o) => o === "open,close" });
  };
  setTimeout(() => check(true, { "a timer fires before the iteration ends": (t) => t }), 300);
}
