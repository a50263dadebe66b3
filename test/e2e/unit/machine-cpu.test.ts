// The e2e's CPU accounting: which process is which part of the run, and the arithmetic from readings to shares.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { busyShare, coresByKind, processKind } from "../machine-cpu.js";

describe("machine CPU accounting", () => {
  it("names each process by its command line, and the harness by its pid", () => {
    const rows: [string, number, string | undefined][] = [
      ["node --import tsx test/e2e/clients.ts", 10, "clients"],
      ["node --import tsx gateway/src/main.ts", 11, "gateways"],
      ["node --import tsx cli/rtgw.ts operator --leader-elect", 12, "operator"],
      ["redis-server *:6379", 13, "redis"],
      ["node --import tsx test/e2e/main.ts --scenario full", 99, "harness"],
      ["node some-other-build.js", 14, undefined],
    ];
    for (const [cmdline, pid, kind] of rows) assert.equal(processKind(cmdline, pid, 99), kind, cmdline);
  });

  it("turns two readings into a busy share, and 0 when no time passed", () => {
    assert.equal(busyShare({ busy: 100, total: 400 }, { busy: 250, total: 600 }), 0.75);
    assert.equal(busyShare({ busy: 100, total: 400 }, { busy: 100, total: 400 }), 0);
  });

  it("turns CPU seconds per kind into cores, never below 0 when a kind's processes exited", () => {
    assert.deepEqual(coresByKind({ clients: 10, gateways: 5 }, { clients: 13, gateways: 4, redis: 0.5 }, 2), {
      clients: 1.5,
      gateways: 0,
      redis: 0.25,
    });
    assert.deepEqual(coresByKind({ clients: 1 }, { clients: 2 }, 0), {});
  });
});
