import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  channelKeys,
  channelOfPubsub,
  presenceMembersKey,
  pubsubChannel,
} from "../../src/broker/redis/keys.js";
import {
  decodePayload,
  encodeMessagePayload,
  encodePresencePayload,
} from "../../src/broker/redis/payload.js";
import { keySlot } from "../../src/broker/redis/slot.js";

describe("redis payload", () => {
  it("round-trips a message whose data contains the separator", () => {
    const payload = encodeMessagePayload(42, "ab12", 1700000000123, '{"text":"a|b|c"}');
    assert.deepEqual(decodePayload("chat:1", payload), {
      type: "message",
      message: {
        channel: "chat:1",
        offset: 42,
        epoch: "ab12",
        publishedAt: 1700000000123,
        data: '{"text":"a|b|c"}',
      },
    });
  });
  it("round-trips presence", () => {
    const member = { connectionId: "c1", sub: "alice", node: "n1" };
    assert.deepEqual(decodePayload("x", encodePresencePayload("leave", member)), {
      type: "presence",
      event: { channel: "x", kind: "leave", member },
    });
  });
  const bad: Array<[string, string]> = [
    ["empty", ""],
    ["unknown kind", "x1|e|1|{}"],
    ["short header", "m1|e"],
    ["offset zero", "m0|e|1|{}"],
    ["offset not a number", "mx|e|1|{}"],
    ["empty epoch", "m1||1|{}"],
    ["presence not json", "pj|{"],
    ["presence wrong shape", 'pj|{"connectionId":1}'],
    ["presence bad flag", 'px|{"connectionId":"a","node":"n"}'],
  ];
  for (const [name, payload] of bad) {
    it(`rejects ${name}`, () => assert.equal(decodePayload("c", payload).type, "invalid"));
  }
});

describe("redis keys", () => {
  it("puts every key and the pub/sub channel of a channel in one slot", () => {
    const keys = channelKeys("room:7/a=b");
    const slot = keySlot(keys.offset);
    for (const key of [
      keys.epoch,
      keys.history,
      keys.presenceNodes,
      presenceMembersKey("room:7/a=b", "node-1"),
    ]) {
      assert.equal(keySlot(key), slot);
    }
    assert.equal(keySlot(pubsubChannel("room:7/a=b")), slot);
    assert.equal(channelOfPubsub(pubsubChannel("room:7/a=b")), "room:7/a=b");
    assert.equal(channelOfPubsub("other"), undefined);
  });
});

describe("keySlot", () => {
  // Reference values from the Redis Cluster specification and CLUSTER KEYSLOT.
  const cases: Array<[string, number]> = [
    ["123456789", 12739],
    ["foo", 12182],
    ["bar", 5061],
    ["{user1000}.following", 3443],
    ["{user1000}.followers", 3443],
  ];
  for (const [key, slot] of cases) it(key, () => assert.equal(keySlot(key), slot));
  it("hashes only the first non-empty tag", () => {
    assert.equal(keySlot("a{tag}b"), keySlot("tag"));
    assert.equal(keySlot("{tag}{other}"), keySlot("tag"));
    assert.notEqual(keySlot("{}tag"), keySlot("tag"));
  });
});
