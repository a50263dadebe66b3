// The fake API server's object lifecycle as a real one has it: graceful deletion of scheduled Pods, finalizers
// holding an object until an update removes the last one, garbage collection when the owner is really gone,
// Events found by involvedObject, and the authorizer hook in front of every request.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FakeApiServer, type RequestAttributes } from "../../dev-cluster/apiserver/server.js";
import { sleep, until } from "../../test-support/wait.js";

let server: FakeApiServer;
const NS = "default";
const PODS = `/api/v1/namespaces/${NS}/pods`;
const CONFIGMAPS = `/api/v1/namespaces/${NS}/configmaps`;
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;

type Obj = {
  metadata: {
    name: string;
    uid: string;
    generation?: number;
    resourceVersion: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    finalizers?: string[];
  };
  [k: string]: unknown;
};

async function call(method: string, path: string, body?: unknown, contentType = "application/json") {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Obj & { message?: string } };
}

/** Collects a watch stream's events until `stop()`. */
function watch(path: string): { events: { type: string; object: Obj }[]; stop: () => void } {
  const events: { type: string; object: Obj }[] = [];
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${server.url}${path}?watch=true`, { signal: abort.signal });
    let buf = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString();
      let i = buf.indexOf("\n");
      while (i >= 0) {
        events.push(JSON.parse(buf.slice(0, i)) as { type: string; object: Obj });
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
      }
    }
  })().catch(() => {});
  return { events, stop: () => abort.abort() };
}

function pod(name: string, spec: object = { nodeName: "box" }) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "c", image: "x" }], ...spec },
  };
}

before(async () => {
  server = await FakeApiServer.start({ gcDelayMs: 5 });
});
after(async () => {
  await server.stop();
});

describe("graceful deletion of pods", () => {
  test("a scheduled pod gets deletionTimestamp + grace and stays until deleted with grace 0", async () => {
    await call("POST", PODS, pod("web-1", { nodeName: "box", terminationGracePeriodSeconds: 7 }));
    const w = watch(PODS);
    await until("the watch's ADDED", () => w.events.length === 1);
    const before = Date.now();
    const r = await call("DELETE", `${PODS}/web-1`);
    assert.equal(r.status, 200);
    assert.equal(r.body.metadata.deletionGracePeriodSeconds, 7);
    const at = Date.parse(r.body.metadata.deletionTimestamp ?? "");
    assert.ok(at >= Math.floor(before / 1000) * 1000 + 6000 && at <= Date.now() + 7000, "now + grace");
    assert.equal((await call("GET", `${PODS}/web-1`)).status, 200, "still there while the kubelet stops it");
    // A shorter grace period shortens it; a longer one changes nothing.
    assert.equal(
      (await call("DELETE", `${PODS}/web-1?gracePeriodSeconds=3`)).body.metadata.deletionGracePeriodSeconds,
      3,
    );
    assert.equal(
      (await call("DELETE", `${PODS}/web-1?gracePeriodSeconds=20`)).body.metadata.deletionGracePeriodSeconds,
      3,
    );
    // Writes keep the deletion marks.
    const patched = await call(
      "PATCH",
      `${PODS}/web-1`,
      { metadata: { labels: { a: "b" }, deletionTimestamp: null } },
      "application/merge-patch+json",
    );
    assert.equal(patched.body.metadata.deletionGracePeriodSeconds, 3);
    assert.ok(patched.body.metadata.deletionTimestamp);
    assert.equal((await call("DELETE", `${PODS}/web-1`, { gracePeriodSeconds: 0 })).status, 200);
    assert.equal((await call("GET", `${PODS}/web-1`)).status, 404);
    await until("the DELETED event", () => w.events.some((e) => e.type === "DELETED"));
    w.stop();
    assert.deepEqual(
      w.events.map((e) => [e.type, e.object.metadata.deletionGracePeriodSeconds]),
      [
        ["ADDED", undefined],
        ["MODIFIED", 7],
        ["MODIFIED", 3],
        ["MODIFIED", 3],
        ["DELETED", 0],
      ],
    );
  });

  test("an unscheduled pod, or one that has finished, is deleted at once", async () => {
    await call("POST", PODS, pod("pending-1", {}));
    assert.equal((await call("DELETE", `${PODS}/pending-1`)).body.kind, "Status");
    assert.equal((await call("GET", `${PODS}/pending-1`)).status, 404);
    await call("POST", PODS, pod("done-1"));
    await call(
      "PATCH",
      `${PODS}/done-1/status`,
      { status: { phase: "Succeeded" } },
      "application/merge-patch+json",
    );
    await call("DELETE", `${PODS}/done-1`);
    assert.equal((await call("GET", `${PODS}/done-1`)).status, 404);
  });
});

describe("finalizers", () => {
  test("hold a deleted object until an update removes the last one; none may be added meanwhile", async () => {
    await call("POST", DEPLOYMENTS, {
      metadata: { name: "held", finalizers: ["a.example/x", "b.example/y"] },
      spec: {
        replicas: 1,
        selector: { matchLabels: { a: "b" } },
        template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
    });
    const del = await call("DELETE", `${DEPLOYMENTS}/held`);
    assert.equal(del.status, 200);
    assert.ok(del.body.metadata.deletionTimestamp);
    assert.equal(del.body.metadata.deletionGracePeriodSeconds, 0);
    assert.equal(del.body.metadata.generation, 2, "marking for deletion bumps generation");
    const added = await call(
      "PATCH",
      `${DEPLOYMENTS}/held`,
      { metadata: { finalizers: ["a.example/x", "b.example/y", "c.example/z"] } },
      "application/merge-patch+json",
    );
    assert.equal(added.status, 422);
    assert.match(added.body.message ?? "", /no new finalizers can be added if the object is being deleted/);
    const one = await call(
      "PATCH",
      `${DEPLOYMENTS}/held`,
      { metadata: { finalizers: ["b.example/y"] } },
      "application/merge-patch+json",
    );
    assert.equal(one.status, 200);
    assert.equal((await call("GET", `${DEPLOYMENTS}/held`)).status, 200);
    const last = await call(
      "PATCH",
      `${DEPLOYMENTS}/held`,
      { metadata: { finalizers: null } },
      "application/merge-patch+json",
    );
    assert.equal(last.status, 200);
    assert.equal((await call("GET", `${DEPLOYMENTS}/held`)).status, 404);
  });

  test("dependents are collected only when their owner is really gone", async () => {
    const owner = await call("POST", CONFIGMAPS, {
      metadata: { name: "owner", finalizers: ["example.com/hold"] },
    });
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.body.metadata.uid };
    await call("POST", CONFIGMAPS, { metadata: { name: "dependent", ownerReferences: [ref] } });
    await call("DELETE", `${CONFIGMAPS}/owner`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await call("GET", `${CONFIGMAPS}/dependent`)).status, 200, "the owner still exists");
    await call(
      "PATCH",
      `${CONFIGMAPS}/owner`,
      { metadata: { finalizers: [] } },
      "application/merge-patch+json",
    );
    await until(
      "the dependent collected",
      async () => (await call("GET", `${CONFIGMAPS}/dependent`)).status === 404,
    );
  });

  test("foreground deletion: the owner stays, held by foregroundDeletion, until its last dependent is gone", async () => {
    const owner = await call("POST", CONFIGMAPS, { metadata: { name: "fg-owner" } });
    const ref = {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "fg-owner",
      uid: owner.body.metadata.uid,
      blockOwnerDeletion: true,
    };
    await call("POST", PODS, { ...pod("fg-pod"), metadata: { name: "fg-pod", ownerReferences: [ref] } });
    const del = await call("DELETE", `${CONFIGMAPS}/fg-owner`, { propagationPolicy: "Foreground" });
    assert.deepEqual(del.body.metadata.finalizers, ["foregroundDeletion"]);
    assert.ok(del.body.metadata.deletionTimestamp);
    await until(
      "the dependent pod terminating",
      async () => (await call("GET", `${PODS}/fg-pod`)).body.metadata.deletionTimestamp !== undefined,
    );
    assert.equal(
      (await call("GET", `${CONFIGMAPS}/fg-owner`)).status,
      200,
      "held while its dependent terminates",
    );
    await call("DELETE", `${PODS}/fg-pod?gracePeriodSeconds=0`);
    await until("the owner gone", async () => (await call("GET", `${CONFIGMAPS}/fg-owner`)).status === 404);
    // Without dependents there is nothing to wait for.
    await call("POST", CONFIGMAPS, { metadata: { name: "fg-alone" } });
    await call("DELETE", `${CONFIGMAPS}/fg-alone?propagationPolicy=Foreground`);
    assert.equal((await call("GET", `${CONFIGMAPS}/fg-alone`)).status, 404);
  });

  test("create ignores deletion marks in the body", async () => {
    const r = await call("POST", CONFIGMAPS, {
      metadata: { name: "fresh", deletionTimestamp: "2020-01-01T00:00:00Z", deletionGracePeriodSeconds: 0 },
    });
    assert.equal(r.body.metadata.deletionTimestamp, undefined);
    assert.equal(r.body.metadata.deletionGracePeriodSeconds, undefined);
  });
});

describe("built-in defaults", () => {
  test("a Service gets a cluster IP on create that updates leaving it out keep; a headless one stays None", async () => {
    const services = `/api/v1/namespaces/${NS}/services`;
    const spec = { selector: { app: "a" }, ports: [{ port: 80 }] };
    const created = await call("POST", services, { metadata: { name: "svc-a" }, spec });
    const ip = (created.body.spec as { clusterIP: string }).clusterIP;
    assert.match(ip, /^10\.96\.\d+\.\d+$/);
    const put = await call("PUT", `${services}/svc-a`, {
      metadata: { name: "svc-a" },
      spec: { ...spec, ports: [{ port: 81 }] },
    });
    assert.deepEqual(put.body.spec, { ...spec, ports: [{ port: 81 }], clusterIP: ip, clusterIPs: [ip] });
    const other = await call("POST", services, { metadata: { name: "svc-b" }, spec });
    assert.notEqual((other.body.spec as { clusterIP: string }).clusterIP, ip);
    const headless = await call("POST", services, {
      metadata: { name: "svc-h" },
      spec: { ...spec, clusterIP: "None" },
    });
    assert.equal((headless.body.spec as { clusterIP: string }).clusterIP, "None");
  });
});

describe("events and field selectors", () => {
  test("core Events need an involvedObject in their namespace and are found by it", async () => {
    const ev = (name: string, involved: object) => ({
      metadata: { name },
      involvedObject: involved,
      reason: "R",
      message: "m",
      type: "Normal",
    });
    const events = `/api/v1/namespaces/${NS}/events`;
    assert.equal((await call("POST", events, { metadata: { name: "none" }, reason: "R" })).status, 422);
    assert.equal(
      (await call("POST", events, ev("elsewhere", { kind: "Pod", name: "p", namespace: "other" }))).status,
      422,
    );
    await call("POST", events, ev("a.1", { kind: "RealtimeGateway", name: "a", namespace: NS, uid: "u-a" }));
    await call("POST", events, ev("b.1", { kind: "RealtimeGateway", name: "b", namespace: NS, uid: "u-b" }));
    const sel = encodeURIComponent(
      "involvedObject.kind=RealtimeGateway,involvedObject.name=a,involvedObject.uid=u-a",
    );
    const list = (await call("GET", `${events}?fieldSelector=${sel}`)).body as unknown as { items: Obj[] };
    assert.deepEqual(
      list.items.map((e) => e.metadata.name),
      ["a.1"],
    );
    const bad = await call("GET", `${events}?fieldSelector=involvedObject.color%3Dred`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.message ?? "", /field label not supported: involvedObject.color/);
    assert.equal((await call("GET", `${CONFIGMAPS}?fieldSelector=involvedObject.name%3Da`)).status, 400);
  });
});

describe("authorizer hook", () => {
  test("every request passes the authorizer with its attributes; a denial is a 403 Status", async () => {
    const seen: RequestAttributes[] = [];
    server.setAuthorizer((a) => {
      seen.push(a);
      return a.verb === "delete"
        ? { allowed: false, message: `${a.resource} "${a.name}" is forbidden` }
        : { allowed: true };
    });
    try {
      await fetch(`${server.url}${CONFIGMAPS}?watch=true&timeoutSeconds=1`, {
        headers: { authorization: "Bearer t1" },
      }).then((r) => r.text());
      await call("GET", CONFIGMAPS);
      await call(
        "PATCH",
        `/apis/apps/v1/namespaces/${NS}/deployments/x/scale`,
        {},
        "application/merge-patch+json",
      );
      await call("GET", "/api/v1/namespaces/default");
      await call("GET", "/apis");
      const denied = await call("DELETE", `${CONFIGMAPS}/fresh`);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.kind, "Status");
      assert.equal((denied.body as unknown as { reason: string }).reason, "Forbidden");
      assert.equal(
        (await call("GET", `${CONFIGMAPS}/fresh`)).status,
        200,
        "a denied request changes nothing",
      );
      const pick = (a: RequestAttributes) => [
        a.token ?? "",
        a.verb,
        a.group,
        a.resource,
        a.subresource,
        a.namespace,
        a.name,
        a.resourceRequest,
      ];
      assert.deepEqual(seen.slice(0, 6).map(pick), [
        ["t1", "watch", "", "configmaps", "", NS, "", true],
        ["", "list", "", "configmaps", "", NS, "", true],
        ["", "patch", "apps", "deployments", "scale", NS, "x", true],
        ["", "get", "", "namespaces", "", "default", "default", true],
        ["", "get", "", "", "", "", "", false],
        ["", "delete", "", "configmaps", "", NS, "fresh", true],
      ]);
    } finally {
      server.setAuthorizer(undefined);
    }
  });
});

describe("a watch of one object", () => {
  test("`?watch=true` on an object's path streams that object's events only", async () => {
    for (const name of ["watched", "other"])
      assert.equal(
        (await call("POST", CONFIGMAPS, { kind: "ConfigMap", metadata: { name }, data: { v: "1" } })).status,
        201,
      );
    const w = watch(`${CONFIGMAPS}/watched`);
    try {
      await until("the ADDED event", () => w.events.length > 0);
      for (const name of ["other", "watched"])
        await call("PATCH", `${CONFIGMAPS}/${name}`, { data: { v: "2" } }, "application/merge-patch+json");
      await until("the MODIFIED event", () => w.events.length > 1);
      await sleep(100);
      assert.deepEqual(
        w.events.map((e) => [e.type, (e.object.metadata as { name: string }).name]),
        [
          ["ADDED", "watched"],
          ["MODIFIED", "watched"],
        ],
      );
    } finally {
      w.stop();
    }
  });
});
