// The per-socket channel record: none, one (kept as its name), or several (a Set), with the same answers either way.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  addChannel,
  addPresence,
  channelCount,
  channelsOf,
  connectionId,
  hasChannel,
  isLeaving,
  markLeaving,
  newConnection,
  removeChannel,
  removePresence,
} from "../../src/connection.js";

const perms = {
  sub: undefined,
  expiresAtMs: undefined,
  subscribe: { test: () => true },
  publish: { test: () => true },
};
const fresh = () => newConnection(perms as never);

describe("connection channels", () => {
  test("one channel is held as its name, a second makes a Set, removals go back to none", () => {
    const c = fresh();
    assert.equal(channelCount(c), 0);
    addChannel(c, "a");
    assert.equal(c.channels, "a");
    addChannel(c, "a");
    assert.equal(channelCount(c), 1);
    addChannel(c, "b");
    const held: unknown = c.channels;
    assert.ok(held instanceof Set);
    assert.deepEqual(channelsOf(c).sort(), ["a", "b"]);
    assert.ok(hasChannel(c, "a") && hasChannel(c, "b") && !hasChannel(c, "c"));
    removeChannel(c, "a");
    assert.deepEqual(channelsOf(c), ["b"]);
    removeChannel(c, "b");
    assert.equal(c.channels, undefined);
    assert.equal(channelCount(c), 0);
    removeChannel(c, "zzz");
    assert.equal(c.channels, undefined);
  });

  test("channelsOf is a copy: removing while walking it visits every channel", () => {
    const c = fresh();
    for (const ch of ["a", "b", "c"]) addChannel(c, ch);
    const seen: string[] = [];
    for (const ch of channelsOf(c)) {
      seen.push(ch);
      removeChannel(c, ch);
    }
    assert.deepEqual(seen.sort(), ["a", "b", "c"]);
    assert.equal(channelCount(c), 0);
  });

  test("ids are unique and the open order is the sequence number, a small integer (stored inline by V8)", () => {
    const a = fresh();
    const b = fresh();
    assert.notEqual(connectionId(a), connectionId(b));
    assert.ok(Number.isInteger(a.seq) && a.seq < b.seq && b.seq < 2 ** 30);
  });
  test("at most 6 fields: uWS copies them into a property array that grows 3 slots at a time", () => {
    assert.ok(Object.keys(fresh()).length <= 6, Object.keys(fresh()).join(", "));
  });
  test("rarely used state is created on first use", () => {
    const c = fresh();
    assert.equal(isLeaving(c), false);
    assert.equal(removePresence(c, "a"), false);
    assert.equal(c.extra, undefined, "reading creates nothing");
    addPresence(c, "a");
    markLeaving(c);
    assert.equal(isLeaving(c), true);
    assert.deepEqual([removePresence(c, "a"), removePresence(c, "a")], [true, false]);
  });
});
