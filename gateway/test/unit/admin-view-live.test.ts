// The live feed samples only while a page polls it: an unwatched view with a key never reads the registry.
import assert from "node:assert/strict";
import { it } from "node:test";
import { startLiveFeed } from "../../src/admin-view/live.js";
import type { AdminOps } from "../../src/admin-view/ops.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("samples from the first poll until idleMs after the last one, and not before", async () => {
  let reads = 0;
  const ops = {
    info: async () => {
      reads += 1;
      return { nodes: [{ node: "n1", connections: 2, channels: 1, uptimeSeconds: 1, version: "x" }] };
    },
  } as unknown as AdminOps;
  const feed = startLiveFeed({ ops, intervalMs: 20, capacity: 100, idleMs: 150 });
  try {
    await sleep(100);
    assert.equal(reads, 0, "nobody watching: no reading");
    assert.deepEqual(feed.since(0), []);
    await sleep(120);
    const samples = feed.since(0);
    assert.ok(samples.length >= 2, `samples while watched (got ${samples.length})`);
    assert.deepEqual([samples[0]?.nodes, samples[0]?.connections], [1, 2]);
    await sleep(400);
    const after = reads;
    await sleep(150);
    assert.equal(reads, after, "no reading once idleMs passed with no poll");
    feed.since(0);
    await sleep(80);
    assert.ok(reads > after, "a new poll starts it again");
  } finally {
    feed.stop();
  }
});
