// The small cluster-in-a-box run (the `make e2e` scenario scaled down to 3,000 connections, target 1,000 per pod,
// short windows): fake API server, the real operator process, simulated pods running real gateways, real Redis,
// client processes on the SDK. Replicas must follow the connections, scale-down must remove the emptiest pods, the
// rebalance must shed onto new pods, a new image at full load must roll every pod without a reconnect storm, and
// every published message must reach every subscriber exactly once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { summarize, verdict } from "../../../test/e2e/report.js";
import { runScenario } from "../../../test/e2e/run.js";
import { SCENARIOS } from "../../../test/e2e/scenario.js";

test("cluster in a box (small): autoscale up and down, rebalance, a rolling deploy at full load, no loss", {
  timeout: 280_000,
}, async () => {
  const sc = SCENARIOS.small;
  assert.ok(sc);
  const lines: string[] = [];
  const facts = await runScenario(sc, { log: (l) => lines.push(l) });
  const s = summarize(facts);
  const failures = verdict(s, sc.peak);
  assert.deepEqual(failures, [], `${failures.join("; ")}\n${lines.join("\n")}`);
  assert.ok(s.rebalanceRounds > 0, `no rebalance after the scale-up\n${lines.join("\n")}`);
  assert.ok(s.published > 0 && s.delivered > 0);
  // The rolling deploy replaced every pod, each drained (verdict), its clients moved with no loss.
  assert.ok(s.rollout && s.rollout.oldPods > 0 && s.rollout.durationSeconds !== null);
  // Every scale was an Event with its numbers.
  const scaledUp = s.scalingEvents.filter((e) => e.reason === "ScaledUp");
  assert.ok(scaledUp.length > 0);
  assert.match(scaledUp[0]?.message ?? "", /connections on \d+ reporting pod\(s\) \(target 1000\/pod/);
});
