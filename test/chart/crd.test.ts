// The chart ships the CRD that the operator's schema generates: crds/ holds exactly what `rtgw crd` prints.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { CHART, ROOT } from "./support/helm.js";

const CRD_FILE = "realtimegateways.rtgw.dev.yaml";

test("crds/ holds the one CRD file, byte for byte what `rtgw crd` prints (regenerate with `make crd`)", async () => {
  assert.deepEqual(await readdir(join(CHART, "crds")), [CRD_FILE]);
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "cli/rtgw.ts", "crd"], {
    cwd: ROOT,
    timeout: 60_000,
  });
  assert.ok(stdout.includes("kind: CustomResourceDefinition"), "`rtgw crd` printed no CRD");
  const shipped = await readFile(join(CHART, "crds", CRD_FILE), "utf8");
  assert.equal(shipped, stdout, "charts/realtime-gateway/crds is stale: run `make crd`");
});
// Its validity as an apiextensions.k8s.io/v1 object is checked with every other rendered object in chart.test.ts.
