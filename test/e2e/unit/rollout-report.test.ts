// The rolling deploy's verdict: a rollout whose reconnects bunch into a storm, that loses, duplicates or reorders
// a message, or whose old pods were not drained (SIGKILL, still running, never removed) must fail the run.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rolloutVerdict, summarizeRollout } from "../rollout-report.js";
import { goodRollout, ROLLOUT_TIMING } from "./rollout-fixture.js";

function judge(change: (r: ReturnType<typeof goodRollout>) => void = () => {}) {
  const r = goodRollout();
  change(r);
  const s = summarizeRollout(r.rollout, r.samples, r.deletions, ROLLOUT_TIMING);
  return { s, failures: rolloutVerdict(s) };
}

describe("e2e verdict: the rolling deploy at full load", () => {
  it("passes an even rollout with nothing lost, and reports its figures", () => {
    const { s, failures } = judge();
    assert.deepEqual(failures, []);
    assert.equal(s.durationSeconds, 22);
    assert.deepEqual(s.reconnectWindow, { from: 15, to: 29 });
    assert.equal(s.reconnects, 3_000);
    assert.equal(s.reconnectPeakPerSecond, 214.8, "the highest 5-second rate");
    assert.equal(s.reconnectPeak1sPerSecond, 215);
    assert.equal(s.reconnectMeanPerSecond, 214.3);
    assert.equal(s.clientsOnOldPods, 3_000);
    assert.equal(s.lost, 0);
    assert.ok(s.published > 0);
  });

  it("fails a reconnect storm: the same reconnects bunched into one second", () => {
    const { s, failures } = judge((r) => {
      for (const x of r.samples) {
        const storm = x.t === 20;
        x.reconnects = storm ? 3_000 : 0;
        x.moveNotices = storm ? 3_000 : 0;
      }
    });
    assert.equal(s.reconnects, 3_000, "as many reconnects as the even rollout");
    assert.ok(
      failures.some((f) =>
        /reconnect storm during the rollout: peak 600\/s \(over 5 s\) > 2 × mean 214.3\/s/.test(f),
      ),
      failures.join("; "),
    );
  });

  it("a second's reconnects folded into the one before (a starved client process) is no storm", () => {
    const { s, failures } = judge((r) => {
      const [before, at] = [r.samples.find((x) => x.t === 20), r.samples.find((x) => x.t === 21)];
      if (before && at) [before.reconnects, at.reconnects] = [before.reconnects + at.reconnects, 0];
    });
    assert.equal(s.reconnectPeak1sPerSecond, 428, "twice the 1-second rate");
    assert.deepEqual(failures, []);
  });

  it("frames in the second before the rate window (a deletion's rounded second) still count", () => {
    const { s, failures } = judge((r) => {
      const [before, first] = [r.samples.find((x) => x.t === 14), r.samples.find((x) => x.t === 15)];
      if (before && first) [before.moveNotices, first.moveNotices] = [first.moveNotices, 0];
    });
    assert.equal(s.moveNotices, 3_000);
    assert.deepEqual(failures, []);
  });

  it("fails a loss during the rollout, even one message", () => {
    const { s, failures } = judge((r) => {
      for (const x of r.samples) if (x.t >= 22) x.gaps = 1;
    });
    assert.equal(s.lost, 1);
    assert.deepEqual(failures, ["1 message(s) lost during the rollout"]);
  });

  it("fails duplicates and reorders during the rollout", () => {
    const { failures } = judge((r) => {
      for (const x of r.samples) if (x.t >= 22) Object.assign(x, { duplicated: 2, outOfOrder: 3 });
    });
    assert.deepEqual(failures, [
      "2 message(s) duplicated during the rollout",
      "3 message(s) out of order during the rollout",
    ]);
  });

  it("a loss before the rollout is not the rollout's", () => {
    const { s } = judge((r) => {
      for (const x of r.samples) x.gaps = 4;
    });
    assert.equal(s.lost, 0);
  });

  it("fails an old pod that was killed instead of drained, or that still runs", () => {
    const { failures } = judge((r) => {
      Object.assign(r.rollout.oldPods[0] ?? {}, { code: null, signal: "SIGKILL" });
      Object.assign(r.rollout.oldPods[1] ?? {}, { exitedAt: undefined });
    });
    assert.ok(
      failures.some((f) =>
        /not drained gracefully by the rollout: o1 \(exit SIGKILL\), o2 \(still running\)/.test(f),
      ),
      failures.join("; "),
    );
  });

  it("fails when clients on old pods got no reconnect frame, or did not come back", () => {
    const { failures } = judge((r) => {
      for (const x of r.samples) {
        x.moveNotices = Math.floor(x.moveNotices / 2);
        x.reconnects = Math.floor(x.reconnects / 2);
      }
    });
    assert.ok(failures.some((f) => /reconnect frame\(s\) for 3000 clients on the old pods/.test(f)));
    assert.ok(failures.some((f) => /clients did not move/.test(f)));
  });

  it("fails a rollout that did not finish or replaced nothing", () => {
    assert.ok(
      judge((r) => {
        r.rollout.to = undefined;
      }).failures.includes("the rollout did not finish: old pods still ran at the deadline"),
    );
    const none = judge((r) => {
      r.rollout.oldPods = [];
      r.deletions = [];
      for (const x of r.samples) Object.assign(x, { reconnects: 0, moveNotices: 0 });
    }).failures;
    assert.ok(none.includes("the rollout replaced no pod"), none.join("; "));
    assert.ok(none.includes("no reconnects during the rollout"));
  });
});
