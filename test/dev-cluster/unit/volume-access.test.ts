// The simulated kubelet's file access model (dev-cluster/volume-access.ts): the mode a volume gives its files, and
// whether the container's user reads them through the fsGroup, its own groups or the other bits.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canRead, describeFile, fileMode } from "../../../dev-cluster/volume-access.js";

describe("volume file access", () => {
  it("the mode: the item's, else the volume's defaultMode, else 0644; none for an emptyDir", () => {
    assert.equal(fileMode({ name: "s", secret: {} }), 0o644);
    assert.equal(fileMode({ name: "s", secret: { defaultMode: 0o440 } }, "tls.key"), 0o440);
    assert.equal(
      fileMode(
        { name: "c", configMap: { defaultMode: 0o444, items: [{ key: "k", path: "p", mode: 0o400 }] } },
        "p",
      ),
      0o400,
    );
    assert.equal(
      fileMode({ name: "h", projected: { defaultMode: 0o440, sources: [{ secret: { items: [] } }] } }, "x"),
      0o440,
    );
    assert.equal(fileMode({ name: "tmp" }), undefined);
  });

  it("who reads: root always; a non-root user through the fsGroup's group bits, else the other bits", () => {
    const nonRoot = { runAsUser: 1000, runAsGroup: 1000 };
    const cases: { name: string; mode: number; pod: object; container?: object; want: boolean }[] = [
      { name: "root, 0400", mode: 0o400, pod: { runAsUser: 0 }, want: true },
      { name: "no runAsUser (the image's, unknown)", mode: 0o400, pod: {}, want: true },
      { name: "0440 root:root, uid 1000", mode: 0o440, pod: nonRoot, want: false },
      { name: "0440 with fsGroup 1000", mode: 0o440, pod: { ...nonRoot, fsGroup: 1000 }, want: true },
      { name: "0444 without fsGroup", mode: 0o444, pod: nonRoot, want: true },
      {
        name: "0404 with fsGroup: the group bits decide",
        mode: 0o404,
        pod: { ...nonRoot, fsGroup: 1000 },
        want: false,
      },
      {
        name: "0440, group root as a supplemental group",
        mode: 0o440,
        pod: { ...nonRoot, supplementalGroups: [0] },
        want: true,
      },
      {
        name: "the container's runAsUser wins",
        mode: 0o440,
        pod: { runAsUser: 0 },
        container: { runAsUser: 1000 },
        want: false,
      },
    ];
    for (const c of cases) assert.equal(canRead(c.mode, c.pod, c.container), c.want, c.name);
    assert.equal(describeFile(0o440, {}), "0440 root:root");
    assert.equal(describeFile(0o440, { fsGroup: 1000 }), "0440 root:1000");
  });
});
