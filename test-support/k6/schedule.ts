// When executors act, as pure functions of their options: the arrival times of constant-arrival-rate and the
// VU-count steps of ramping-vus (k6 moves the count one VU at a time, where the linear ramp crosses it).

export interface VuStep {
  /** ms after the scenario starts */
  atMs: number;
  /** planned active VUs from then on */
  vus: number;
}

/** ramping-vus: the count starts at startVUs and each stage moves linearly to its target over its duration. */
export function rampingSteps(
  startVUs: number,
  stages: ReadonlyArray<{ duration: number; target: number }>,
): VuStep[] {
  const steps: VuStep[] = [{ atMs: 0, vus: startVUs }];
  let from = startVUs;
  let stageStart = 0;
  for (const stage of stages) {
    const diff = stage.target - from;
    if (stage.duration === 0) {
      if (diff !== 0) steps.push({ atMs: stageStart, vus: stage.target });
    } else {
      const sign = Math.sign(diff);
      for (let k = 1; k <= Math.abs(diff); k++) {
        steps.push({ atMs: stageStart + (stage.duration * k) / Math.abs(diff), vus: from + sign * k });
      }
    }
    from = stage.target;
    stageStart += stage.duration;
  }
  return steps;
}

export function stagesDuration(stages: ReadonlyArray<{ duration: number }>): number {
  return stages.reduce((sum, s) => sum + s.duration, 0);
}

/** constant-arrival-rate: iteration i starts at i × timeUnit / rate, for every start before the duration. */
export function arrivalOffsets(rate: number, timeUnitMs: number, durationMs: number): number[] {
  const interval = timeUnitMs / rate;
  const offsets: number[] = [];
  for (let i = 0; i * interval < durationMs; i++) offsets.push(i * interval);
  return offsets;
}
