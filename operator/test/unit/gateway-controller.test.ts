// The reconciler's I/O shell with a scripted API (no server): the status write is a read-modify-write that survives
// a 409 by re-reading and keeping the other writer's fields; a failed apply is reported and retried by the caller.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  GatewayController,
  type GatewayKube,
  SECRET_RECHECK_MS,
} from "../../src/controllers/gateway/controller.js";
import type { EventInput } from "../../src/runtime/events.js";
import type { KubeObject } from "../../src/runtime/kube.js";
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

function scriptedKube(overrides: Partial<GatewayKube>) {
  const calls: string[] = [];
  const events: EventInput[] = [];
  const kube: GatewayKube = {
    getSecretKeys: async () => undefined,
    list: async () => ({ items: [], resourceVersion: "1" }),
    watch: async () => () => undefined,
    apply: async (o) => {
      calls.push(`apply ${o.kind}`);
      return { ...o, metadata: { ...o.metadata, resourceVersion: "50" } };
    },
    deleteObject: async (res, _namespace, name) => {
      calls.push(`delete ${res.kind} ${name}`);
      return true;
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
    createSecret: async (o) => {
      calls.push(`create ${o.kind} ${o.metadata.name}`);
      return { ...o, metadata: { ...o.metadata, resourceVersion: "40" } };
    },
    ...overrides,
  };
  // Secrets are read by name: the ones created through this kube exist afterwards (key names only).
  const secrets = new Map<string, string[]>();
  const create = kube.createSecret;
  kube.createSecret = async (o) => {
    const out = await create(o);
    if (out) secrets.set(o.metadata.name, Object.keys(o.data ?? {}));
    return out;
  };
  if (!overrides.getSecretKeys)
    kube.getSecretKeys = async (namespace, name) => {
      calls.push(`get Secret ${name}`);
      const keys = secrets.get(name);
      return keys ? { metadata: { name, namespace }, keys } : undefined;
    };
  return { kube, calls, events, secrets };
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
    assert.ok(calls.filter((x) => x.startsWith("apply")).length === 6);
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
      ["Normal/Created", "Warning/ApplyFailed"],
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

describe("reconciler: the admin-key Secret", () => {
  const apiKey = (o: KubeObject) =>
    Buffer.from((o.data as Record<string, string>)["api-key"] ?? "", "base64").toString();

  it("is created before the Deployment with a random key, owned by the gateway, and only once", async () => {
    const created: KubeObject[] = [];
    const createSecret = async (o: KubeObject) => {
      created.push(structuredClone(o));
      calls.push(`create ${o.kind} ${o.metadata.name}`);
      return { ...o, data: { "api-key": "" }, metadata: { ...o.metadata, resourceVersion: "40" } };
    };
    const { kube, calls, events } = scriptedKube({ createSecret });
    const c = new GatewayController({ kube, log: quietLog });
    c.gateways.observe(gateway("10", {}));
    await c.reconcile("ns/gw");
    const writes = calls.filter((x) => !x.startsWith("get "));
    assert.deepEqual(writes.slice(0, 2), ["create Secret gw-admin", "apply ConfigMap"]);
    assert.ok(calls.indexOf("apply Deployment") > 0);
    const [secret] = created;
    assert.ok(secret);
    assert.equal(secret.metadata.namespace, "ns");
    assert.deepEqual(
      secret.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [["RealtimeGateway", "gw", "u", true]],
    );
    assert.match(apiKey(secret), /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
    assert.ok(
      events.every((e) => !e.message.includes(apiKey(secret))),
      "the key is in no Event",
    );
    assert.ok(calls.includes("get Secret gw-admin"), "read by name");
    await c.reconcile("ns/gw");
    c.resyncAll();
    await c.reconcile("ns/gw");
    assert.equal(created.length, 1, "created once");

    // Another gateway (elsewhere: its Secret does not exist yet) gets a key of its own.
    const other = new GatewayController({ kube: scriptedKube({ createSecret }).kube, log: quietLog });
    other.gateways.observe(gateway("10", {}));
    await other.reconcile("ns/gw");
    assert.equal(created.length, 2);
    assert.notEqual(apiKey(created[0]!), apiKey(created[1]!));
  });

  it("one that already exists (409, our cache behind) is left as it is", async () => {
    const { kube, calls, events } = scriptedKube({
      createSecret: async (o) => {
        calls.push(`create ${o.kind}`);
        return undefined;
      },
    });
    const c = new GatewayController({ kube, log: quietLog });
    c.gateways.observe(gateway("10", {}));
    await c.reconcile("ns/gw");
    assert.equal(calls.filter((x) => x.startsWith("apply")).length, 6, "the rollout goes on");
    assert.ok(!events.some((e) => e.message.includes("Secret")), `${events.map((e) => e.message)}`);
  });

  it("a failed create is retried and never quotes the request (the key) in status, Events or the error", async () => {
    let sent = "";
    const statuses: KubeObject[] = [];
    const { kube, calls, events } = scriptedKube({
      createSecret: async (o) => {
        sent = apiKey(o);
        throw Object.assign(new Error(`admission webhook denied ${sent}`), {
          code: 500,
          body: JSON.stringify({ message: `denied: data[api-key]=${sent}` }),
        });
      },
      replaceGatewayStatus: async (o) => {
        statuses.push(o);
        return o;
      },
    });
    const c = new GatewayController({ kube, log: quietLog });
    c.gateways.observe(gateway("10", {}));
    const err = await c.reconcile("ns/gw").then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(err, "thrown for the queue's backoff");
    assert.ok(sent.length > 0);
    assert.match(err.message, /creating Secret ns\/gw-admin failed \(HTTP 500\)/);
    const everything = JSON.stringify({ err: err.message, statuses, events });
    assert.ok(!everything.includes(sent), "the key leaked");
    assert.ok(!calls.some((x) => x.startsWith("apply")), "no Deployment without its Secret");
  });
});

describe("reconciler: Secrets read by name, never listed or watched", () => {
  it("lists and watches no Secret; a missing referenced Secret blocks and is looked at again", async () => {
    const listed: string[] = [];
    const present = new Set(["gw-admin"]);
    const { kube, calls } = scriptedKube({
      list: async (res) => {
        listed.push(res.plural);
        return { items: [], resourceVersion: "1" };
      },
      watch: async (res) => {
        listed.push(res.plural);
        return () => undefined;
      },
      getSecretKeys: async (namespace, name) => {
        calls.push(`get Secret ${name}`);
        if (!present.has(name)) return undefined;
        return { metadata: { name, namespace }, keys: [name === "gw-admin" ? "api-key" : "url"] };
      },
    });
    const c = new GatewayController({ kube, log: quietLog });
    const gw = gateway("10", {});
    gw.spec = { image: "i:1", redis: { secretRef: { name: "chat-redis", key: "url" } } };
    c.gateways.observe(gw);
    assert.deepEqual(
      await c.reconcile("ns/gw"),
      { requeueAfterMs: SECRET_RECHECK_MS },
      "blocked: look again",
    );
    assert.ok(!calls.some((x) => x.startsWith("apply")), `nothing rolled out without the Secret: ${calls}`);
    assert.ok(calls.includes("get Secret chat-redis"), calls.join(", "));
    present.add("chat-redis");
    assert.equal(await c.reconcile("ns/gw"), undefined);
    assert.ok(calls.includes("apply Deployment"), calls.join(", "));
    // What the running controller's informers list and watch.
    const abort = new AbortController();
    void c.start(abort.signal);
    await new Promise((r) => setTimeout(r, 200));
    abort.abort();
    assert.ok(listed.length > 0, "the informers did list");
    assert.ok(!listed.includes("secrets"), `listed/watched: ${listed.join(", ")}`);
  });
});
