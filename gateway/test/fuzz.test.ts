// Property-based fuzzing of a live gateway: ≥10,000 random, malformed and half-valid frames.
// It never crashes, answers every frame exactly once (bad_request for anything malformed),
// and keeps serving other clients throughout.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { decodeClientFrame, type ServerFrame } from "../../protocol/index.js";
import type { GatewayProcess } from "../../test-support/gateway.js";
import { startGateway } from "../../test-support/gateway.js";
import { sleep } from "../../test-support/wait.js";
import { connect, type TestClient } from "./client.js";

const RUNS = 200;
const FRAMES_PER_RUN = 50; // 10,000 frames in all

const channel = fc.oneof(
  fc.constantFrom("chat:1", "a", "x/y=z", "news.@home"),
  fc.string({ maxLength: 20 }),
  fc.string({ minLength: 195, maxLength: 210 }),
  fc.integer(),
  fc.constant(null),
);
const id = fc.oneof(
  fc.nat({ max: 1_000_000 }),
  fc.integer({ min: -5, max: -1 }),
  fc.double(),
  fc.string({ maxLength: 5 }),
  fc.constant(Number.MAX_SAFE_INTEGER + 2),
);
const halfValid = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom("subscribe", "unsubscribe", "publish", "ping", "presence"),
      fc.string({ maxLength: 8 }),
    ),
    id,
    channel,
    since: fc.oneof(fc.nat(), fc.integer({ min: -3, max: -1 }), fc.string({ maxLength: 3 })),
    epoch: fc.string({ maxLength: 70 }),
    presence: fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })),
    data: fc.jsonValue({ maxDepth: 3 }),
    extra: fc.anything({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
/** A frame to send: text (most of them) or binary. */
const frame = fc.oneof(
  { weight: 5, arbitrary: halfValid.map((o) => ({ text: JSON.stringify(o) })) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ text })) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map((text) => ({ text })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("{", "[[[[[[[[[[", '{"type":', "\u0000", '{"__proto__":{"type":"ping"},"id":1}', "1e999")
      .map((text) => ({ text })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes })) },
);

describe("fuzz", { timeout: 180_000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    // No rate limit gets in the way: the fuzzer sends thousands of frames of every kind at once.
    const unlimited = Object.fromEntries(
      ["PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", "PRESENCE", "HISTORY", "REFRESH"].flatMap((op) => [
        [`RTGW_${op}_RATE`, "1000000"],
        [`RTGW_${op}_BURST`, "1000000"],
      ]),
    );
    gw = await startGateway({ env: unlimited });
  });
  after(() => gw.stop());

  it(`answers ${RUNS * FRAMES_PER_RUN} random frames, bad_request for every malformed one, and keeps serving`, async () => {
    const fuzzer = await connect(gw.wsUrl);
    const bystander = await connect(gw.wsUrl);
    const watcher = await connect(gw.wsUrl);
    await watcher.request({ type: "subscribe", channel: "bystander" });
    let answered = 0;
    let badRequests = 0;
    let sentMalformed = 0;
    const replies: ServerFrame[] = [];
    fuzzer.ws.on("message", (data) => {
      const parsed = JSON.parse(data.toString());
      for (const f of Array.isArray(parsed) ? parsed : [parsed]) {
        if (f.type === "ack" || f.type === "error" || f.type === "pong") replies.push(f);
      }
    });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(frame, { minLength: FRAMES_PER_RUN, maxLength: FRAMES_PER_RUN }),
          async (frames) => {
            replies.length = 0;
            let malformed = 0;
            for (const f of frames) {
              if ("bytes" in f) {
                malformed++;
                fuzzer.ws.send(f.bytes, { binary: true });
              } else {
                if (!decodeClientFrame(f.text).ok) malformed++;
                fuzzer.ws.send(f.text);
              }
            }
            const deadline = Date.now() + 10_000;
            while (replies.length < frames.length) {
              if (Date.now() > deadline) throw new Error(`${replies.length}/${frames.length} answered`);
              await sleep(2);
            }
            await sleep(0);
            assert.equal(replies.length, frames.length, "exactly one answer per frame");
            const bad = replies.filter((r) => r.type === "error" && r.code === "bad_request").length;
            // Every malformed frame got bad_request (valid ones may too: duplicate subscribe, too many subscriptions).
            assert.ok(bad >= malformed, `${bad} bad_request for ${malformed} malformed frames`);
            answered += replies.length;
            badRequests += bad;
            sentMalformed += malformed;
            // Meanwhile others are served.
            const pong = await bystander.request({ type: "ping" }, 2000);
            assert.equal(pong.type, "pong");
          },
        ),
        { numRuns: RUNS },
      );
      assert.equal(answered, RUNS * FRAMES_PER_RUN);
      assert.ok(sentMalformed > RUNS * FRAMES_PER_RUN * 0.5, `only ${sentMalformed} malformed frames`);
      assert.ok(badRequests >= sentMalformed);
      // Still alive, still healthy, still delivering.
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
      assert.equal(fuzzer.ws.readyState, fuzzer.ws.OPEN);
      await bystander.request({ type: "publish", channel: "bystander", data: "still here" });
      const m = await watcher.next((f) => f.type === "message" && f.channel === "bystander");
      assert.equal(m.type === "message" && m.data, "still here");
    } finally {
      for (const c of [fuzzer, bystander, watcher] as TestClient[]) c.ws.terminate();
    }
  });
});
