// The autoscaling controller's shell against an in-memory API (the real one is exercised by the e2e run):
// what it writes, what it leaves alone, and how it survives conflicts and failing pods.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PodView } from "../../src/controllers/autoscaling/pods.js";
import { AUTOSCALING, controller, fakeApi, fakeFetch, pod, podEvent } from "./fake-cluster.js";

describe("autoscaling controller", () => {
  it("scales up through the scale subresource, with status, an Event and deletion costs", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 15_000],
      ["10.0.0.2", 16_000],
    ]);
    const clock = { t: Date.parse("2026-11-23T12:00:00Z") };
    await controller(api, fakeFetch(conns, []), clock).tick();

    assert.deepEqual(api.scales, [4]); // ceil(31000 / 10000)
    assert.equal(api.events.length, 1);
    assert.equal(api.events[0]?.reason, "ScaledUp");
    assert.match(api.events[0]?.message ?? "", /31000 connections on 2 reporting pod\(s\).*replicas 2 -> 4/);
    const status = api.gateway.status;
    assert.equal(status.desiredReplicas, 4);
    assert.equal(status.connections, 31_000);
    assert.equal(status.lastScaleTime, "2026-11-23T12:00:00Z");
    assert.equal(status.readyReplicas, 2, "the reconciler's fields survive");
    const conditions = status.conditions as { type: string; status: string; reason: string }[];
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ["Ready", "True", "AllReady"],
        ["Scaling", "True", "ScalingUp"],
      ],
    );
    assert.deepEqual(
      api.annotations.sort((x, y) => x.pod.localeCompare(y.pod)),
      [
        { pod: "a", value: "15000" },
        { pod: "b", value: "16000" },
      ],
    );
  });

  it("retries a status write that conflicts, keeping the other writer's change", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    api.conflictsLeft = 1;
    api.onConflict = () => {
      api.gateway.status = { ...api.gateway.status, readyReplicas: 7, observedGeneration: 3 };
      api.rv++;
      (api.gateway.metadata as { resourceVersion: string }).resourceVersion = String(api.rv);
    };
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 10_000],
      ["10.0.0.2", 10_000],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    assert.equal(api.statusWrites.length, 1);
    assert.equal(api.gateway.status.readyReplicas, 7);
    assert.equal(api.gateway.status.observedGeneration, 3);
    assert.equal(api.gateway.status.connections, 20_000);
  });

  it("writes nothing to the gateway when autoscaling is disabled (kubectl scale drives it)", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: { ...AUTOSCALING, enabled: false } }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 50_000],
      ["10.0.0.2", 50_000],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    assert.deepEqual(api.scales, []);
    assert.deepEqual(api.statusWrites, []);
    assert.deepEqual(api.annotations, []);
    assert.deepEqual(api.events, []);
  });

  it("treats an unreachable pod as a missing metric (no scale-down on its silence)", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 2_000],
      ["10.0.0.2", 2_000],
      ["10.0.0.3", "down"],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    // (2000 + 2000 + 10000 assumed) / 3 → ceil(1.4) = 2, not ceil(0.4) = 1
    assert.deepEqual(api.scales, [2]);
    assert.equal(
      api.annotations.some((a) => a.pod === "c"),
      false,
      "no cost written without a metric",
    );
  });

  it("counts a running pod that fails readiness (full) with its metric; a Pending pod is left out", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: { ...AUTOSCALING, scaleDownStabilizationSeconds: 0 } }, [
      pod("a", "10.0.0.1", { ready: false }), // full: unready, still holding its clients
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3", { running: false, ready: false }), // Pending: no metric is scraped
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 19_000],
      ["10.0.0.2", 9_000],
      ["10.0.0.3", 5_000],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    // 28000 over a and b → 3; with a dropped it would have been ceil(9000 / 10000) = 1
    assert.deepEqual(api.scales, []);
    assert.equal(api.gateway.status.connections, 28_000);
  });

  it("rewrites a deletion cost only when it moved meaningfully, and status only when it changed", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 10_000],
      ["10.0.0.2", 10_000],
    ]);
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, []), clock);
    await c.tick();
    assert.equal(api.annotations.length, 2);
    const writes = api.statusWrites.length;
    conns.set("10.0.0.1", 10_050); // < 1 % of target
    clock.t += 5_000;
    await c.tick();
    assert.equal(api.annotations.length, 2);
    assert.equal(api.statusWrites.length, writes);
    conns.set("10.0.0.1", 8_000);
    clock.t += 5_000;
    await c.tick();
    assert.deepEqual(api.annotations.at(-1), { pod: "a", value: "8000" });
    assert.equal(api.statusWrites.length, writes + 1);
  });

  it("during a rolling update costs the old template's pods fullest first, the new ones emptiest first", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: AUTOSCALING }, [
      pod("old-a", "10.0.0.1", { templateHash: "aaa", createdAt: 1 }),
      pod("old-b", "10.0.0.2", { templateHash: "aaa", createdAt: 2 }),
      pod("old-c", "10.0.0.3", { templateHash: "aaa", createdAt: 3 }),
      pod("new-a", "10.0.0.4", { templateHash: "bbb", createdAt: 9 }),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 12_000],
      ["10.0.0.2", 4_000],
      ["10.0.0.3", 9_000],
      ["10.0.0.4", 500],
    ]);
    await controller(api, fakeFetch(conns, []), { t: Date.now() }).tick();
    assert.deepEqual(
      api.annotations.sort((x, y) => x.pod.localeCompare(y.pod)),
      [
        { pod: "new-a", value: "500" },
        { pod: "old-a", value: "-12000" },
        { pod: "old-b", value: "-4000" },
        { pod: "old-c", value: "-9000" },
      ],
    );
  });

  it("holds a scale-down while pods of two templates are live, and scales down once one is left", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: AUTOSCALING }, [
      pod("old-a", "10.0.0.1", { templateHash: "aaa", createdAt: 1 }),
      pod("old-b", "10.0.0.2", { templateHash: "aaa", createdAt: 2 }),
      pod("new-a", "10.0.0.3", { templateHash: "bbb", createdAt: 9 }),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 2_000],
      ["10.0.0.2", 2_000],
      ["10.0.0.3", 1_000],
    ]);
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, []), clock);
    await c.tick();
    assert.deepEqual(api.scales, [], "no scale-down in the middle of a rollout");
    const scaling = (api.gateway.status.conditions as { type: string; reason: string }[]).find(
      (x) => x.type === "Scaling",
    );
    assert.equal(scaling?.reason, "RollingUpdate");
    // The last old pod is deleting (draining its clients): its reconnects are the rollout's last wave, still held.
    api.pods = [
      pod("old-a", "10.0.0.1", { templateHash: "aaa", createdAt: 1, deleting: true }),
      pod("new-a", "10.0.0.3", { templateHash: "bbb", createdAt: 9 }),
      pod("new-b", "10.0.0.4", { templateHash: "bbb", createdAt: 10 }),
      pod("new-c", "10.0.0.5", { templateHash: "bbb", createdAt: 11 }),
    ];
    for (const p of api.pods) podEvent(api, "MODIFIED", p);
    podEvent(api, "DELETED", pod("old-b", "10.0.0.2", { templateHash: "aaa" }));
    conns.set("10.0.0.4", 500).set("10.0.0.5", 500);
    clock.t += 60_000;
    await c.tick();
    assert.deepEqual(api.scales, [], "no scale-down while the rollout's last old pod drains");
    // The rollout is over: every live pod runs the new template.
    api.pods = [
      pod("new-a", "10.0.0.3", { templateHash: "bbb", createdAt: 9 }),
      pod("new-b", "10.0.0.4", { templateHash: "bbb", createdAt: 10 }),
      pod("new-c", "10.0.0.5", { templateHash: "bbb", createdAt: 11 }),
    ];
    for (const p of api.pods) podEvent(api, "ADDED", p);
    podEvent(api, "DELETED", pod("old-a", "10.0.0.1", { templateHash: "aaa" }));
    conns.set("10.0.0.4", 2_000).set("10.0.0.5", 2_000);
    clock.t += 60_000;
    await c.tick();
    assert.deepEqual(api.scales, [1]);
  });

  it("sheds from the fullest pods, with the admin key, once the skew has lasted", async () => {
    const api = fakeApi({ replicas: 3, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 14_000],
      ["10.0.0.2", 13_000],
      ["10.0.0.3", 1_000],
    ]);
    const sheds: { ip: string; auth: string; body: unknown }[] = [];
    const clock = { t: Date.now() };
    const key = "k-from-the-reconciler";
    api.secrets.set("chat-admin", { "api-key": key }); // the reconciler's Secret: the autoscaler only reads it
    const c = controller(api, fakeFetch(conns, sheds), clock);
    await c.tick();
    assert.equal(sheds.length, 0, "not before the skew lasted sustainSeconds");
    clock.t += 10_000;
    await c.tick();
    assert.deepEqual(
      sheds.sort((x, y) => x.ip.localeCompare(y.ip)),
      [
        { ip: "10.0.0.1", auth: `Bearer ${key}`, body: { count: 1_400, seconds: 5 } },
        { ip: "10.0.0.2", auth: `Bearer ${key}`, body: { count: 1_300, seconds: 5 } },
      ],
    );
    assert.equal(api.events.at(-1)?.reason, "Rebalancing");
    assert.deepEqual(api.scales, []);
  });

  it("sheds nothing until the admin-key Secret exists, then with the key it holds now", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 14_000],
      ["10.0.0.2", 1_000],
    ]);
    const sheds: { ip: string; auth: string; body: unknown }[] = [];
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, sheds), clock);
    for (let i = 0; i < 3; i++) {
      await c.tick();
      clock.t += 10_000;
    }
    assert.equal(sheds.length, 0, "no key, no shed");
    assert.equal(api.secrets.size, 0, "the autoscaler never creates the Secret");
    api.secrets.set("chat-admin", { "api-key": "first" });
    await c.tick();
    assert.deepEqual(
      sheds.map((x) => x.auth),
      ["Bearer first"],
    );
    // Deleted and recreated by the reconciler with a new key: the next shed uses the new one.
    api.secrets.set("chat-admin", { "api-key": "second" });
    for (let i = 0; i < 6 && sheds.length < 2; i++) {
      clock.t += 10_000;
      await c.tick();
    }
    assert.equal(sheds.at(-1)?.auth, "Bearer second");
  });

  it("does not shed while pods are leaving", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
      pod("c", "10.0.0.3", { deleting: true }),
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 14_000],
      ["10.0.0.2", 3_000],
      ["10.0.0.3", 5_000],
    ]);
    const sheds: { ip: string; auth: string; body: unknown }[] = [];
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, sheds), clock);
    for (let i = 0; i < 5; i++) {
      await c.tick();
      clock.t += 10_000;
    }
    assert.equal(sheds.length, 0);
  });
});

describe("autoscaling controller: rate-limit history", () => {
  it("a scale write that fails does not use up the scale-up period: the next pass scales", async () => {
    const api = fakeApi(
      {
        replicas: 2,
        autoscaling: { ...AUTOSCALING, scaleUp: { pods: 1, periodSeconds: 60 } },
      },
      [pod("a", "10.0.0.1"), pod("b", "10.0.0.2")],
    );
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 20_000],
      ["10.0.0.2", 20_000],
    ]);
    api.scaleFailuresLeft = 1;
    const clock = { t: Date.parse("2026-11-23T12:00:00Z") };
    const c = controller(api, fakeFetch(conns, []), clock);
    await c.tick();
    assert.deepEqual(api.scales, [], "the first write failed");
    assert.equal(api.events.length, 0, "no ScaledUp Event for a scale that did not happen");
    clock.t += 5_000;
    await c.tick();
    assert.deepEqual(api.scales, [3], "one pod per minute, and none was added yet");
    clock.t += 5_000;
    await c.tick();
    assert.deepEqual(api.scales, [3], "the written scale-up uses the period up");
  });

  it("reads gateways and pods from informer caches: one list each, however many passes", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
    ]);
    const lists: string[] = [];
    const list = api.list.bind(api);
    api.list = async (res, ns, selector) => {
      lists.push(res.kind);
      return list(res, ns, selector);
    };
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 10_000],
      ["10.0.0.2", 10_000],
    ]);
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, []), clock);
    for (let i = 0; i < 4; i++) {
      await c.tick();
      clock.t += 5_000;
    }
    assert.deepEqual(lists.sort(), ["Pod", "RealtimeGateway"]);
    // A pod the watch reports is in the next pass (its deletion cost is written).
    api.pods.push(pod("c", "10.0.0.3"));
    conns.set("10.0.0.3", 4_000);
    podEvent(api, "ADDED", api.pods.at(-1) as PodView);
    await c.tick();
    assert.deepEqual(api.annotations.at(-1), { pod: "c", value: "4000" });
    await c.stop();
  });
});

describe("autoscaling controller: terminating pods", () => {
  it("a terminating pod (Running, Ready, full) is no capacity, its clients are demand; never costed or shed", async () => {
    const api = fakeApi({ replicas: 2, autoscaling: AUTOSCALING }, [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2"),
      pod("old", "10.0.0.3", { deleting: true }), // graceful deletion: still Running and Ready while it drains
    ]);
    const conns = new Map<string, number | "down">([
      ["10.0.0.1", 14_000],
      ["10.0.0.2", 3_000],
      ["10.0.0.3", 40_000],
    ]);
    const sheds: { ip: string; auth: string; body: unknown }[] = [];
    api.secrets.set("chat-admin", { "api-key": "k" });
    const clock = { t: Date.now() };
    const c = controller(api, fakeFetch(conns, sheds), clock);
    for (let i = 0; i < 5; i++) {
      await c.tick();
      clock.t += 10_000;
    }
    // Its 40,000 clients are moving onto a and b: 57,000 over a target of 10,000 needs 6 pods.
    assert.ok(
      (api.scales[0] ?? 0) > 2,
      `scaled up for the leaving pod's clients: ${JSON.stringify(api.scales)}`,
    );
    assert.equal(api.scales.at(-1), 6);
    assert.equal(api.gateway.status.connections, 17_000, "status counts the pods that stay");
    assert.equal(
      api.annotations.some((x) => x.pod === "old"),
      false,
    );
    assert.deepEqual(sheds, [], "no shed while a pod is leaving, and never from it");
    await c.stop();
  });
});
