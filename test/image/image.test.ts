// Both images, built from the Dockerfile by a real OCI builder and started: `make images`' own path
// (scripts/images.sh, here forced to buildah with `--isolation chroot --network host`), on a stand-in for
// node:20-bookworm-slim that scripts/node-base.sh makes from debootstrap and this machine's node (no registry is
// reachable here), cached outside the checkout. The gateway image answers /readyz, carries a WebSocket
// subscribe/publish round trip for the client SDK on the host, and drains on SIGTERM; the operator image answers
// `--help`. Both run as uid 1000 without dev dependencies. Needs root or sudo, buildah and debootstrap
// (scripts/setup.sh test installs them). Sizes and build times are printed as test diagnostics.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { WebSocket } from "ws";
import { z } from "zod";
import { type Client, connect } from "../../client/src/index.js";
import { httpPublish } from "../../client/test/helpers.js";
import { freePort } from "../../test-support/ports.js";
import { until } from "../../test-support/wait.js";
import { asRoot, type Container, fromImage, type ImageConfig, imageSize, inspectImage } from "./buildah.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TAG = "image-test";
const IMAGES = {
  gateway: `localhost/rtgw-test/gateway:${TAG}`,
  operator: `localhost/rtgw-test/operator:${TAG}`,
};
const API_KEY = "image-test-key-0123456789";
const BUILD_TIMEOUT_MS = 20 * 60_000;
const bin = z
  .object({ bin: z.object({ rtgw: z.string() }) })
  .parse(JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"))).bin.rtgw;

const figures: string[] = [];
const configs = new Map<string, ImageConfig>();
const containers: Container[] = [];

describe("container images, built and run with buildah", { timeout: 40 * 60_000 }, () => {
  before(async () => {
    await promisify(execFile)("buildah", ["--version"]).catch(() => {
      throw new Error("buildah is missing: run scripts/setup.sh test (apt-get install buildah debootstrap)");
    });
    const base = await asRoot([join(ROOT, "scripts/node-base.sh")], { timeoutMs: BUILD_TIMEOUT_MS });
    const baseImage = base.stdout.trim().split("\n").at(-1) ?? "";
    assert.match(baseImage, /^localhost\/rtgw-node-base:/);
    const cold = base.stderr.includes("committing");
    figures.push(
      `base ${baseImage}: ${cold ? "made" : "cached"} in ${seconds(base.ms)}, ${await imageSize(baseImage)}`,
    );
    for (const target of ["gateway", "operator"] as const) {
      const built = await asRoot(
        [
          "env",
          "RTGW_IMAGE_BUILDER=buildah",
          `NODE_IMAGE=${baseImage}`,
          join(ROOT, "scripts/images.sh"),
          target,
          IMAGES[target],
        ],
        { cwd: ROOT, timeoutMs: BUILD_TIMEOUT_MS },
      );
      figures.push(`${target} image: built in ${seconds(built.ms)}, ${await imageSize(IMAGES[target])}`);
      configs.set(target, await inspectImage(IMAGES[target]));
    }
  });
  after(async () => {
    await Promise.all(containers.splice(0).map((c) => c.remove()));
  });

  test("both images run `node <package bin> <command>` in exec form as uid 1000, without dev dependencies", async (t) => {
    for (const target of ["gateway", "operator"] as const) {
      const config = configs.get(target);
      assert.deepEqual(config?.Entrypoint, ["node", bin], `${target} entrypoint`);
      assert.deepEqual(config?.Cmd, [target], `${target} command`);
      assert.equal(config?.User, "1000:1000", `${target} user`);
      const c = await container(target);
      const probe = await c.run([
        "node",
        "-e",
        "const fs = require('node:fs'); console.log(JSON.stringify({ uid: process.getuid(), " +
          "typescript: fs.existsSync('node_modules/typescript'), tsx: fs.existsSync('node_modules/tsx'), " +
          "uws: fs.existsSync('node_modules/uWebSockets.js'), bin: fs.existsSync(process.argv[1]) }))",
        bin,
      ]);
      assert.deepEqual(JSON.parse(probe.stdout), {
        uid: 1000,
        typescript: false,
        tsx: false,
        uws: true,
        bin: true,
      });
    }
    for (const line of figures) t.diagnostic(line);
  });

  test("the gateway image answers /readyz and carries a subscribe/publish round trip, then drains on SIGTERM", async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const config = configs.get("gateway");
    const command = [...(config?.Entrypoint ?? []), ...(config?.Cmd ?? [])];
    const gateway = (await container("gateway")).start(command, {
      RTGW_HOST: "127.0.0.1",
      RTGW_PORT: String(port),
      RTGW_METRICS_PORT: String(metricsPort),
      RTGW_API_KEY: API_KEY,
      RTGW_DRAIN_SECONDS: "1",
      RTGW_LOG_LEVEL: "info",
    });
    const url = `http://127.0.0.1:${port}`;
    const clients: Client[] = [];
    try {
      await until(
        "the gateway in the image to answer /readyz",
        async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
        60_000,
      );
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /^rtgw_/m, "metrics served");

      const sub = connect(`ws://127.0.0.1:${port}/ws`, { WebSocket });
      const pub = connect(`ws://127.0.0.1:${port}/ws`, { WebSocket });
      clients.push(sub, pub);
      const got: Array<{ data: unknown; offset: number }> = [];
      const reconnectNotices: number[] = [];
      sub.on("reconnect", (notice) => reconnectNotices.push(notice.afterMs));
      await sub.subscribe("image:round", (data, meta) => got.push({ data, offset: meta.offset })).ready;
      const offsets: number[] = [];
      for (let n = 1; n <= 5; n++) offsets.push((await pub.publish("image:round", { n })).offset);
      offsets.push(await httpPublish(url, API_KEY, "image:round", { n: 6 }));
      assert.deepEqual(offsets, [1, 2, 3, 4, 5, 6]);
      await until("six messages through the image", () => got.length === 6, 10_000);
      assert.deepEqual(
        got.map((g) => g.data),
        [1, 2, 3, 4, 5, 6].map((n) => ({ n })),
      );

      // SIGTERM straight to the gateway process (as the kubelet sends it to PID 1): the drain runs.
      assert.ok(gateway.signalInside("SIGTERM"), "found the gateway process inside the container");
      assert.equal(await gateway.exited, 0, gateway.logs());
      assert.match(gateway.logs(), /"msg":"drained"/);
      assert.ok(reconnectNotices.length >= 1, "the subscriber was told to reconnect elsewhere");
    } finally {
      for (const c of clients) c.close();
      gateway.kill();
    }
  });

  test("the operator image answers --help", async () => {
    const config = configs.get("operator");
    const c = await container("operator");
    const help = await c.run([...(config?.Entrypoint ?? []), ...(config?.Cmd ?? []), "--help"]);
    assert.match(help.stdout, /^Usage: rtgw operator/m);
    assert.match(help.stdout, /--metrics-port/);
  });
});

async function container(target: keyof typeof IMAGES): Promise<Container> {
  const c = await fromImage(IMAGES[target], `rtgw-image-test-${target}-${process.pid}-${containers.length}`);
  containers.push(c);
  return c;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
