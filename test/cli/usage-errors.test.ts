// The real `rtgw` process: a bad flag value and a commander usage error both exit 2 with the message on stderr,
// before anything starts (the target below has no listener; a started run would report connect errors instead).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";

function rtgw(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "cli/rtgw.ts", ...args],
      { timeout: 60_000, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("rtgw CLI flag errors", () => {
  it("rtgw load --connections -5 exits 2 naming the flag and what it allows", async () => {
    const r = await rtgw(["load", "--connections", "-5", "--target", "ws://127.0.0.1:9/ws", "--quiet"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      "rtgw load: --connections must be an integer between 1 and 2000000 (got -5)\n" +
        "(rtgw load --help lists every flag)\n",
    );
    assert.equal(r.stdout, "");
  });

  it("rtgw operator checks its flags and the autoscaler's variables at start, all at once: exit 2", async () => {
    // No KUBECONFIG and no cluster: a regression that started the operator would fail differently.
    const r = await rtgw(["operator", "--queue-qps", "0"], {
      RTGW_REBALANCE: "yes",
      RTGW_AUTOSCALER_INTERVAL_SECONDS: "0",
    });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      "rtgw operator: --queue-qps (RTGW_OPERATOR_QUEUE_QPS) must be a number between 0.01 and 10000 (got 0)\n" +
        "rtgw operator: RTGW_AUTOSCALER_INTERVAL_SECONDS must be a number of seconds above 0 (got 0)\n" +
        'rtgw operator: RTGW_REBALANCE must be true, false, 1 or 0 (got "yes")\n' +
        "(rtgw operator --help lists every flag)\n",
    );
  });

  it("rtgw operator --help names the autoscaler's variables", async () => {
    const r = await rtgw(["operator", "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /RTGW_AUTOSCALER_INTERVAL_SECONDS\n {2}RTGW_AUTOSCALER_SCRAPE_TIMEOUT_SECONDS\n {2}RTGW_REBALANCE\n/,
    );
  });

  it("an unknown flag is a usage error too: exit 2", async () => {
    const r = await rtgw(["load", "--target", "ws://127.0.0.1:9/ws", "--conections", "5"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown option '--conections'/);
  });

  it("options after a subcommand are its own: `bench box --json` is unknown to box, not bench's --json", async () => {
    // The bad --connections keeps a regression from starting a real box run: it would fail on that instead.
    const r = await rtgw(["bench", "box", "--json", "x.json", "--connections", "-1"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown option '--json'/);
  });
});
