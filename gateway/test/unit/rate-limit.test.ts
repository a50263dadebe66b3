import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newBucket, take } from "../../src/rate-limit.js";

describe("token bucket", () => {
  const policy = { rate: 10, burst: 3 };
  it("allows the burst, then refuses", () => {
    const b = newBucket(policy, 0);
    assert.deepEqual(
      [take(b, policy, 0), take(b, policy, 0), take(b, policy, 0), take(b, policy, 0)],
      [true, true, true, false],
    );
  });
  it("refills at the rate (one token per 100 ms at 10/s)", () => {
    const b = newBucket(policy, 0);
    for (let i = 0; i < 3; i++) take(b, policy, 0);
    assert.equal(take(b, policy, 50), false);
    assert.equal(take(b, policy, 100), true);
    assert.equal(take(b, policy, 150), false);
    assert.equal(take(b, policy, 250), true);
  });
  it("never holds more than the burst after a long quiet period", () => {
    const b = newBucket(policy, 0);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (take(b, policy, 1_000_000)) allowed++;
    assert.equal(allowed, 3);
  });
  it("a clock going backwards adds nothing", () => {
    const b = newBucket(policy, 1000);
    for (let i = 0; i < 3; i++) take(b, policy, 1000);
    assert.equal(take(b, policy, 0), false);
  });
  it("sustained over-rate traffic gets about `rate` per second through", () => {
    const b = newBucket(policy, 0);
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 10) if (take(b, policy, t)) allowed++; // 100/s offered for 10 s
    assert.ok(allowed >= 100 && allowed <= 104, `allowed ${allowed}`);
  });
});
