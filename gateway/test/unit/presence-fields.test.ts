import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exposeMember } from "../../src/presence-fields.js";

describe("exposeMember", () => {
  const entry = { connectionId: "c1", sub: "alice", node: "pod-a" };
  it("sub shown when configured", () => assert.deepEqual(exposeMember(entry, new Set(["sub"])), entry));
  it("sub hidden otherwise", () =>
    assert.deepEqual(exposeMember(entry, new Set()), { connectionId: "c1", node: "pod-a" }));
  it("an anonymous member has no sub to hide", () =>
    assert.deepEqual(exposeMember({ connectionId: "c2", node: "n" }, new Set()), {
      connectionId: "c2",
      node: "n",
    }));
});
