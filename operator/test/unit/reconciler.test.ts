// The reconciler's I/O shell with a scripted API (no server): the status write is a read-modify-write that survives
// a 409 by re-reading and keeping the other writer's fields; a failed apply is reported and retried by the caller.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventInput, KubeObject, OperatorKube } from "../../src/kube.js";
import { GatewayController } from "../../src/reconciler.js";
import { quietLog } from "../helpers.js";

function gateway(rv: string, status: object): KubeObject {
  return {
    apiVersion: "rtgw.dev/v1alpha1",
    kind: "RealtimeGateway",
    metadata: { name: "gw", namespace: "ns", uid: "u", generation: 2, resourceVersion: rv },
    spec: { image: "i:1", redis: { url: "redis://r" } },
    status,
  };
}

function scriptedKube(overrides: Partial<OperatorKube>) {
  const calls: string[] = [];
  const events: EventInput[] = [];
  const kube: OperatorKube = {
    list: async () => ({ items: [], resourceVersion: "1" }),
    watch: async () => () => undefined,
    apply: async (o) => {
      calls.push(`apply ${o.kind}`);
      return { ...o, metadata: { ...o.metadata, resourceVersion: "50" } };
    },
    getGateway: async () => {
      throw new Error("unexpected get");
    },
    replaceGatewayStatus: async (o) => {
      calls.push(`status rv=${o.metadata.resourceVersion}`);
      return o;
    },
    createEvent: async (e) => {
      events.push(e);
    },
    ...overrides,
  };
  return { kube, calls, events };
}

describe("reconciler status writes", () => {
  it("on 409 re-reads and merges onto the other writer's status, keeping its fields", async () => {
    const theirs = {
      connections: 4321,
      desiredReplicas: 3,
      conditions: [
        {
          type: "Scaling",
          status: "True",
          reason: "ScaledUp",
          message: "2 → 3",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    };
    let attempt = 0;
    const written: KubeObject[] = [];
    const { kube, calls } = scriptedKube({
      replaceGatewayStatus: async (o) => {
        attempt++;
        if (attempt === 1) throw Object.assign(new Error("conflict"), { code: 409 });
        written.push(o);
        return o;
      },
      getGateway: async () => gateway("11", theirs),
    });
    const c = new GatewayController({ kube, log: quietLog });
    c.gateways.observe(gateway("10", {}));
    await c.reconcile("ns/gw");
    assert.equal(attempt, 2);
    const status = written[0]!.status as Record<string, unknown> & { conditions: { type: string }[] };
    assert.equal(written[0]!.metadata.resourceVersion, "11", "the retry carries the version it re-read");
    assert.equal(status.connections, 4321);
    assert.equal(status.desiredReplicas, 3);
    assert.deepEqual(status.conditions.map((x) => x.type).sort(), ["Degraded", "Ready", "Scaling"]);
    assert.equal(status.observedGeneration, 2);
    assert.ok(calls.filter((x) => x.startsWith("apply")).length === 5);
  });

  it("a failed apply marks Degraded/ApplyFailed, records a Warning, and throws for the queue's backoff", async () => {
    const statuses: KubeObject[] = [];
    const { kube, events } = scriptedKube({
      apply: async () => {
        throw Object.assign(new Error("boom"), {
          code: 500,
          body: JSON.stringify({ message: "etcd unavailable" }),
        });
      },
      replaceGatewayStatus: async (o) => {
        statuses.push(o);
        return o;
      },
    });
    const c = new GatewayController({ kube, log: quietLog });
    c.gateways.observe(gateway("10", {}));
    await assert.rejects(c.reconcile("ns/gw"));
    const degraded = (
      statuses[0]!.status as { conditions: { type: string; reason: string; message: string }[] }
    ).conditions.find((x) => x.type === "Degraded")!;
    assert.equal(degraded.reason, "ApplyFailed");
    assert.match(degraded.message, /HTTP 500: etcd unavailable/);
    assert.deepEqual(
      events.map((e) => `${e.type}/${e.reason}`),
      ["Warning/ApplyFailed"],
    );
  });

  it("a deleted or terminating gateway is left to garbage collection", async () => {
    const { kube, calls } = scriptedKube({});
    const c = new GatewayController({ kube, log: quietLog });
    await c.reconcile("ns/missing");
    const terminating = gateway("10", {});
    terminating.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    c.gateways.observe(terminating);
    await c.reconcile("ns/gw");
    assert.deepEqual(calls, []);
  });
});
