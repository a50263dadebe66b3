import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PendingRequests } from "../../src/requests.js";

describe("PendingRequests", () => {
  it("gives every request its own id and settles each exactly once", () => {
    const requests = new PendingRequests<"publish" | "ping", string>();
    const a = requests.add("publish", 1_000, "a");
    const b = requests.add("ping", 2_000, "b");
    assert.notEqual(a, b);
    assert.equal(requests.size, 2);
    assert.equal(requests.settle(b)?.context, "b");
    assert.equal(requests.settle(b), undefined, "a second answer for the same id is ignored");
    assert.equal(requests.settle(999), undefined, "an unknown id is ignored");
    assert.equal(requests.size, 1);
    assert.equal(requests.settle(a)?.kind, "publish");
  });

  it("expires exactly the requests whose deadline passed, oldest first, and reports the next deadline", () => {
    const requests = new PendingRequests<"publish", number>();
    requests.add("publish", 300, 3);
    requests.add("publish", 100, 1);
    requests.add("publish", 200, 2);
    requests.add("publish", 400, 4);
    assert.equal(requests.nextDeadline(), 100);
    assert.deepEqual(requests.expire(99), []);
    assert.deepEqual(
      requests.expire(300).map((r) => r.context),
      [1, 2, 3],
    );
    assert.equal(requests.nextDeadline(), 400);
    assert.equal(requests.size, 1);
    assert.deepEqual(
      requests.expire(10_000).map((r) => r.context),
      [4],
    );
    assert.equal(requests.nextDeadline(), undefined);
  });

  it("a settled request never expires later", () => {
    const requests = new PendingRequests<"publish", null>();
    const id = requests.add("publish", 100, null);
    requests.settle(id);
    assert.deepEqual(requests.expire(1_000), []);
  });

  it("takes requests by predicate (a dropped socket) and filters without removing (a flush)", () => {
    const requests = new PendingRequests<"publish" | "subscribe", { sent: boolean }>();
    requests.add("publish", 1, { sent: true });
    requests.add("publish", 1, { sent: false });
    requests.add("subscribe", 1, { sent: true });
    requests.add("publish", 1, { sent: false });
    assert.deepEqual(
      requests.filter((r) => !r.context.sent).map((r) => r.id),
      [2, 4],
    );
    assert.equal(requests.size, 4);
    assert.deepEqual(
      requests.takeAll((r) => r.context.sent).map((r) => r.kind),
      ["publish", "subscribe"],
    );
    assert.equal(requests.size, 2);
    assert.equal(requests.takeAll().length, 2);
    assert.equal(requests.size, 0);
  });
});
