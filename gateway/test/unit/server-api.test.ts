// The server API's pure parts: the fleet sums `channels` and `info` answer with, the live entry that replaces a
// node's last heartbeat, control payload parsing, and which sockets an order picks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { socketsOf } from "../../src/api/fleet-control.js";
import { fleetChannels, nodeInfo, withLive } from "../../src/api/node-registry.js";
import { ANONYMOUS } from "../../src/auth.js";
import type { NodeReport } from "../../src/broker/broker.js";
import { decodeControl } from "../../src/broker/redis/control.js";
import { newConnection, type Socket } from "../../src/connection.js";

const report = (node: string, channels: Record<string, number>, connections = 1): NodeReport => ({
  node,
  version: "1.2.3",
  startedAt: 1_000,
  connections,
  channels,
});

describe("fleetChannels", () => {
  const reports = [
    report("a", { "chat:1": 2, "chat:2": 1, news: 5 }),
    report("b", { "chat:1": 3, other: 1, empty: 0 }),
  ];
  const cases: Array<[string, string | undefined, number, Array<[string, number]>]> = [
    [
      "every channel, summed, busiest first, ties by name",
      undefined,
      10,
      [
        ["chat:1", 5],
        ["news", 5],
        ["chat:2", 1],
        ["other", 1],
      ],
    ],
    [
      "a prefix pattern",
      "chat:*",
      10,
      [
        ["chat:1", 5],
        ["chat:2", 1],
      ],
    ],
    ["an exact pattern", "news", 10, [["news", 5]]],
    ["no match", "zzz", 10, []],
    ["cut at the limit", undefined, 1, [["chat:1", 5]]],
  ];
  for (const [name, pattern, limit, want] of cases)
    it(name, () => {
      assert.deepEqual(
        fleetChannels(reports, pattern, limit).map((c) => [c.channel, c.subscribers]),
        want,
      );
    });
});

describe("withLive and nodeInfo", () => {
  it("replaces the node's stored report by its live one, adds it when missing, sorts by node", () => {
    const live = report("b", { x: 1 }, 9);
    assert.deepEqual(withLive([report("c", {}), report("b", {}, 1), report("a", {})], live), [
      report("a", {}),
      live,
      report("c", {}),
    ]);
    assert.deepEqual(withLive([], live), [live]);
  });
  it("reports uptime in seconds and counts channels", () => {
    assert.deepEqual(nodeInfo(report("a", { x: 1, y: 2 }, 7), 61_400), {
      node: "a",
      version: "1.2.3",
      uptimeSeconds: 60,
      connections: 7,
      channels: 2,
    });
  });
});

describe("decodeControl", () => {
  const cases: Array<[string, unknown]> = [
    ['{"kind":"disconnect","user":"u"}', { kind: "disconnect", user: "u" }],
    ['{"kind":"unsubscribe","user":"u","channel":"c"}', { kind: "unsubscribe", user: "u", channel: "c" }],
    ['{"kind":"unsubscribe","user":"u"}', undefined],
    ['{"kind":"reboot"}', undefined],
    ["not json", undefined],
  ];
  for (const [text, want] of cases) it(text, () => assert.deepEqual(decodeControl(text), want));
});

describe("socketsOf", () => {
  const socket = (sub: string | undefined, closed = false) => {
    const conn = newConnection({ ...ANONYMOUS, sub });
    conn.closed = closed;
    return { getUserData: () => conn } as unknown as Socket;
  };
  it("picks the open sockets of that user, never anonymous ones", () => {
    const alice = socket("alice");
    const all = [alice, socket("alice", true), socket("bob"), socket(undefined)];
    assert.deepEqual(socketsOf(all, "alice"), [alice]);
    assert.deepEqual(socketsOf(all, ""), []);
  });
});
