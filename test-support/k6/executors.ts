// The four executors loadtest/k6/ uses, driving VUs on real time from pure schedules (schedule.ts):
//   per-vu-iterations / shared-iterations: iterations until done or maxDuration;
//   constant-arrival-rate: an iteration every timeUnit/rate on a free VU (none free: dropped_iterations, and a
//     new VU is initialized while under maxVUs);
//   ramping-vus: VUs looping iterations while the planned count covers them.
// Then k6's stop: no new iterations; those in flight get gracefulStop (gracefulRampDown for VUs ramped down),
// then are interrupted.
import type { RunContext } from "./context.js";
import type { Scenario, ScenarioOf } from "./options.js";
import { arrivalOffsets, rampingSteps, stagesDuration } from "./schedule.js";
import type { ScenarioState, VirtualUser } from "./vu.js";

export interface ScenarioDriver {
  state: ScenarioState;
  run: RunContext;
  /** The VUs initialized for this scenario before the test started. */
  vus: VirtualUser[];
  /** Initialize one more VU mid-test (constant-arrival-rate up to maxVUs). */
  newVu(): Promise<VirtualUser>;
  /** Resolves when the run is aborted (Unsupported): everything stops at once. */
  aborted: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Wait for `work` up to `graceMs`; then interrupt whatever still runs and wait for it to unwind. */
async function stopWithGrace(work: Promise<unknown>, graceMs: number, running: () => Iterable<VirtualUser>) {
  let done = false;
  const settled = work.then(() => {
    done = true;
  });
  await Promise.race([settled, sleep(graceMs)]);
  if (!done) for (const vu of running()) vu.interrupt();
  await settled;
}

/** Sleeps that end early when the run is aborted. */
function clock(driver: ScenarioDriver) {
  let aborted = false;
  void driver.aborted.then(() => {
    aborted = true;
  });
  return {
    isAborted: () => aborted,
    until: (unixMs: number) => Promise.race([sleep(unixMs - Date.now()), driver.aborted]),
  };
}

export function runScenario(driver: ScenarioDriver): Promise<void> {
  const options: Scenario = driver.state.options;
  switch (options.executor) {
    case "per-vu-iterations":
    case "shared-iterations":
      return iterationsExecutor(driver, options);
    case "constant-arrival-rate":
      return arrivalRateExecutor(driver, options);
    case "ramping-vus":
      return rampingVusExecutor(driver, options);
  }
}

async function iterationsExecutor(
  driver: ScenarioDriver,
  options: ScenarioOf<"per-vu-iterations"> | ScenarioOf<"shared-iterations">,
) {
  const time = clock(driver);
  const start = driver.state.startTime;
  let stopped = false;
  let shared = options.iterations;
  const busy = new Set<VirtualUser>();
  const loops = driver.vus.map(async (vu) => {
    let own = options.iterations;
    while (!stopped && !time.isAborted()) {
      if (options.executor === "per-vu-iterations" ? own-- <= 0 : shared-- <= 0) break;
      busy.add(vu);
      await vu.iterate(options.exec, driver.state);
      busy.delete(vu);
    }
  });
  const all = Promise.all(loops);
  await Promise.race([all, time.until(start + options.maxDuration)]);
  stopped = true;
  await stopWithGrace(all, time.isAborted() ? 0 : options.gracefulStop, () => busy);
}

async function arrivalRateExecutor(driver: ScenarioDriver, options: ScenarioOf<"constant-arrival-rate">) {
  const time = clock(driver);
  const start = driver.state.startTime;
  const maxVUs = Math.max(options.maxVUs ?? options.preAllocatedVUs, options.preAllocatedVUs);
  const idle = [...driver.vus];
  const busy = new Set<VirtualUser>();
  const inFlight = new Set<Promise<unknown>>();
  let allocated = idle.length;
  for (const offset of arrivalOffsets(options.rate, options.timeUnit, options.duration)) {
    await time.until(start + offset);
    if (time.isAborted()) break;
    const vu = idle.pop();
    if (!vu) {
      driver.run.add(driver.run.builtin.dropped_iterations, 1);
      if (allocated < maxVUs) {
        allocated++;
        void driver.newVu().then((fresh) => idle.push(fresh));
      }
      continue;
    }
    busy.add(vu);
    const iteration = vu.iterate(options.exec, driver.state).then(() => {
      busy.delete(vu);
      idle.push(vu);
      inFlight.delete(iteration);
    });
    inFlight.add(iteration);
  }
  await time.until(start + options.duration);
  await stopWithGrace(Promise.all(inFlight), time.isAborted() ? 0 : options.gracefulStop, () => busy);
}

async function rampingVusExecutor(driver: ScenarioDriver, options: ScenarioOf<"ramping-vus">) {
  const time = clock(driver);
  const start = driver.state.startTime;
  let stopped = false;
  const wanted = new Set<VirtualUser>();
  const busy = new Set<VirtualUser>();
  const loops = new Map<VirtualUser, Promise<void>>();
  const loop = async (vu: VirtualUser) => {
    while (wanted.has(vu) && !stopped && !time.isAborted()) {
      busy.add(vu);
      await vu.iterate(options.exec, driver.state);
      busy.delete(vu);
    }
    loops.delete(vu);
  };
  for (const step of rampingSteps(options.startVUs, options.stages)) {
    await time.until(start + step.atMs);
    if (time.isAborted()) break;
    driver.vus.forEach((vu, index) => {
      if (index < step.vus && !wanted.has(vu)) {
        wanted.add(vu);
        if (!loops.has(vu)) loops.set(vu, loop(vu));
      } else if (index >= step.vus && wanted.has(vu)) {
        // Ramped down: the VU may finish its iteration within gracefulRampDown.
        wanted.delete(vu);
        void sleep(options.gracefulRampDown).then(() => {
          if (!wanted.has(vu) && busy.has(vu)) vu.interrupt();
        });
      }
    });
  }
  await time.until(start + stagesDuration(options.stages));
  stopped = true;
  await stopWithGrace(
    Promise.all([...loops.values()]),
    time.isAborted() ? 0 : options.gracefulStop,
    () => busy,
  );
}

/** VUs a scenario needs initialized before the test starts. */
export function initialVus(options: Scenario): number {
  switch (options.executor) {
    case "per-vu-iterations":
    case "shared-iterations":
      return options.vus;
    case "constant-arrival-rate":
      return options.preAllocatedVUs;
    case "ramping-vus":
      return Math.max(options.startVUs, ...options.stages.map((s) => s.target));
  }
}
