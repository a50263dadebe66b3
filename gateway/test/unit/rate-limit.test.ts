import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { admit, newBucket, take } from "../../src/rate-limit.js";

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

describe("admit: one bucket per operation, strikes per operation", () => {
  const policy = { rate: 1, burst: 2 };
  it("operations do not share a bucket", () => {
    const buckets = {};
    assert.deepEqual(
      [admit(buckets, "subscribe", policy, 3, 0), admit(buckets, "subscribe", policy, 3, 0)],
      ["allowed", "allowed"],
    );
    assert.equal(admit(buckets, "subscribe", policy, 3, 0), "limited");
    assert.equal(admit(buckets, "presence", policy, 3, 0), "allowed", "presence has its own bucket");
  });
  it("refused `strikes` times in a row is abuse; an allowed take resets the count", () => {
    const buckets = {};
    admit(buckets, "presence", policy, 3, 0);
    admit(buckets, "presence", policy, 3, 0);
    assert.deepEqual(
      [admit(buckets, "presence", policy, 3, 0), admit(buckets, "presence", policy, 3, 0)],
      ["limited", "limited"],
    );
    assert.equal(admit(buckets, "presence", policy, 3, 1000), "allowed", "refilled: strikes reset");
    assert.deepEqual(
      [1, 2, 3].map(() => admit(buckets, "presence", policy, 3, 1000)),
      ["limited", "limited", "abuse"],
    );
    // Another operation's allowed takes do not wash this one's strikes away.
    const b2 = {};
    for (let i = 0; i < 2; i++) admit(b2, "history", policy, 2, 0);
    assert.equal(admit(b2, "history", policy, 2, 0), "limited");
    assert.equal(admit(b2, "ping" as never, policy, 2, 0), "allowed");
    assert.equal(admit(b2, "history", policy, 2, 0), "abuse");
  });
});
