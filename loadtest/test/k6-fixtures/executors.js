// @ts-check
// Executor semantics the scripts rely on: an iteration past maxDuration + gracefulStop is interrupted (its timer
// never runs); constant-arrival-rate with no free VU drops iterations; ramping-vus loops short iterations on
// the VUs the ramp has started, without starving the rest.
import { check } from "k6";
import { Counter } from "k6/metrics";
import { setTimeout } from "k6/timers";

const loops = new Counter("fixture_ramp_iterations");

export const options = {
  scenarios: {
    cut: {
      executor: "per-vu-iterations",
      vus: 1,
      iterations: 1,
      maxDuration: "1s",
      gracefulStop: "500ms",
      exec: "hang",
    },
    arrivals: {
      executor: "constant-arrival-rate",
      rate: 20,
      timeUnit: "1s",
      duration: "1s",
      preAllocatedVUs: 1,
      maxVUs: 1,
      exec: "slow",
    },
    ramp: {
      executor: "ramping-vus",
      startVUs: 0,
      stages: [{ duration: "1s", target: 2 }],
      gracefulStop: "0s",
      exec: "spin",
    },
  },
  thresholds: { checks: ["rate==1"] },
};

export function hang() {
  setTimeout(() => check(false, { "an interrupted iteration's timer never runs": (v) => v }), 5_000);
}

export function slow() {
  setTimeout(() => check(true, { "a slow arrival completes": (v) => v }), 180);
}

export function spin() {
  loops.add(1);
}
