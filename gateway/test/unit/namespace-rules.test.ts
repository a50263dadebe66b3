// The namespace rules as a table: each row a namespace, a connection's rights and a request, and the verdict.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALLOW_ALL, ALLOW_NONE, compilePatterns } from "../../src/channel-patterns.js";
import { parseConfigFile } from "../../src/namespaces/config-file.js";
import { createNamespaces } from "../../src/namespaces/namespaces.js";
import {
  presenceVerdict,
  publishVerdict,
  type Rights,
  resumeOf,
  serverVerdict,
  subscribeVerdict,
} from "../../src/namespaces/rules.js";
import { NAMESPACES_YAML } from "../namespaces-support.js";

// The namespace tests' one config file, plus a namespace both of whose hooks are on (never called here).
const parsed = parseConfigFile(
  "rtgw.yaml",
  `${NAMESPACES_YAML}  hooked: { proxySubscribe: true, proxyPublish: true }
proxy:
  subscribe: { url: "http://127.0.0.1:1/subscribe" }
  publish: { url: "http://127.0.0.1:1/publish" }
`,
);
assert.ok(parsed.ok);
const namespaces = createNamespaces({ historySize: 100, historyTtlSeconds: 300 }, parsed.value);

const rights = (subscribe: string[], publish: string[] = subscribe, awaitingToken = false): Rights => ({
  permissions: { subscribe: compilePatterns(subscribe), publish: compilePatterns(publish) },
  awaitingToken,
});
const all: Rights = { permissions: { subscribe: ALLOW_ALL, publish: ALLOW_ALL }, awaitingToken: false };
const none: Rights = { permissions: { subscribe: ALLOW_NONE, publish: ALLOW_NONE }, awaitingToken: false };
const awaiting: Rights = { ...none, awaitingToken: true };

type Row = [string, Rights, { since?: number; presence?: boolean }, "ok" | [string, RegExp]];

test("subscribe: undeclared, rights, anyone, recovery, presence", () => {
  const rows: Row[] = [
    ["chat:1", all, {}, "ok"],
    ["chat:1", rights(["chat:*"]), { since: 3, presence: true }, "ok"],
    ["nope:1", all, {}, ["bad_request", /namespace nope is not declared \(channel nope:1\)/]],
    ["chat:1", none, {}, ["forbidden", /not allowed to subscribe to chat:1/]],
    ["chat:1", rights(["chat:2"]), {}, ["forbidden", /chat:1/]],
    ["open:1", none, {}, "ok"],
    ["open:1", awaiting, {}, ["forbidden", /not allowed/]],
    ["live:1", all, {}, "ok"],
    // No recovery: a resume is let through, session.ts answers it recovered:false without replaying.
    ["live:1", all, { since: 0 }, "ok"],
    ["bare:1", all, { since: 5 }, "ok"],
    ["bare:1", all, { presence: true }, "ok"],
    ["quiet:1", all, {}, "ok"],
    ["quiet:1", all, { presence: false }, "ok"],
    ["quiet:1", all, { presence: true }, ["bad_request", /presence is off in namespace quiet/]],
    ["lobby", all, { since: 1, presence: true }, "ok"],
    // The subscribe hook decides instead of the token (asked next, in session.ts), never before the token came.
    ["hooked:1", none, {}, "ok"],
    ["hooked:1", awaiting, {}, ["forbidden", /not allowed/]],
  ];
  for (const [channel, r, ask, expected] of rows) {
    const v = subscribeVerdict(namespaces.of(channel), channel, r, ask);
    const what = `${channel} ${JSON.stringify(ask)}`;
    if (expected === "ok") assert.ok(v.ok, `${what}: ${v.ok ? "" : v.message}`);
    else {
      assert.ok(!v.ok, `${what}: allowed`);
      assert.equal(v.code, expected[0], what);
      assert.match(v.message, expected[1], what);
    }
  }
});

test("publish: undeclared, server only, rights", () => {
  const rows: Array<[string, Rights, "ok" | [string, RegExp]]> = [
    ["chat:1", all, "ok"],
    ["chat:1", rights([], ["chat:*"]), "ok"],
    ["chat:1", rights(["chat:*"], []), ["forbidden", /not allowed to publish to chat:1/]],
    ["nope:1", all, ["bad_request", /namespace nope is not declared/]],
    ["feed:1", all, ["forbidden", /only the server API may publish to feed:1 \(namespace feed\)/]],
    ["open:1", none, ["forbidden", /not allowed to publish/]],
    ["chat:1", { ...all, awaitingToken: true }, ["forbidden", /not allowed/]],
    ["hooked:1", none, "ok"], // the publish hook decides
    ["hooked:1", { ...none, awaitingToken: true }, ["forbidden", /not allowed/]],
  ];
  for (const [channel, r, expected] of rows) {
    const v = publishVerdict(namespaces.of(channel), channel, r);
    if (expected === "ok") assert.ok(v.ok, `${channel}: ${v.ok ? "" : v.message}`);
    else {
      assert.ok(!v.ok, `${channel}: allowed`);
      assert.deepEqual(
        [v.code, expected[1].test(v.message)],
        [expected[0], true],
        `${channel}: ${v.message}`,
      );
    }
  }
});

test("presence queries: as subscribe with presence, and the server API's calls", () => {
  assert.ok(presenceVerdict(namespaces.of("chat:1"), "chat:1", all, false).ok);
  assert.ok(
    presenceVerdict(namespaces.of("open:1"), "open:1", none, false).ok,
    "anyone may read an open namespace",
  );
  const quiet = presenceVerdict(namespaces.of("quiet:1"), "quiet:1", all, false);
  assert.ok(!quiet.ok);
  assert.equal(quiet.code, "bad_request");
  assert.match(quiet.message, /presence is off in namespace quiet \(channel quiet:1\)/);
  const forbidden = presenceVerdict(namespaces.of("chat:1"), "chat:1", none, false);
  assert.ok(!forbidden.ok);
  assert.equal(forbidden.code, "forbidden");
  assert.equal(presenceVerdict(namespaces.of("nope:1"), "nope:1", all, false).ok, false);

  const server = (channel: string, call: "publish" | "history" | "presence") =>
    serverVerdict(namespaces.of(channel), channel, call);
  assert.ok(server("feed:1", "publish").ok, "publish: server is the server API's own right");
  assert.ok(server("bare:1", "history").ok);
  assert.ok(server("quiet:1", "publish").ok);
  assert.equal(server("quiet:1", "presence").ok, false);
  for (const call of ["publish", "history", "presence"] as const) {
    const v = server("nope:x", call);
    assert.ok(!v.ok && /namespace nope is not declared/.test(v.message), call);
  }
});

test("no file: today's behaviour, rights decide everything", () => {
  const defaults = createNamespaces({ historySize: 100, historyTtlSeconds: 300 });
  assert.ok(subscribeVerdict(defaults.of("any:1"), "any:1", all, { presence: true }).ok);
  assert.equal(subscribeVerdict(defaults.of("any:1"), "any:1", none, {}).ok, false);
  assert.ok(publishVerdict(defaults.of("any:1"), "any:1", all).ok);
  assert.ok(presenceVerdict(defaults.of("any:1"), "any:1", all, false).ok);
});

test("presence where the subscribe hook decides: being subscribed stands in for the token's rights", () => {
  assert.equal(presenceVerdict(namespaces.of("hooked:1"), "hooked:1", none, false).ok, false);
  assert.ok(presenceVerdict(namespaces.of("hooked:1"), "hooked:1", none, true).ok);
  assert.equal(
    presenceVerdict(namespaces.of("chat:1"), "chat:1", none, true).ok,
    false,
    "elsewhere the token",
  );
});

test("resume: with recovery off, since is dropped and the loss announced; elsewhere as asked", () => {
  const ns = (channel: string) => {
    const found = namespaces.of(channel);
    assert.ok(found.ok);
    return found.namespace;
  };
  assert.deepEqual(resumeOf(ns("chat:1"), 4), { since: 4, lost: false });
  assert.deepEqual(resumeOf(ns("live:1"), 4), { since: undefined, lost: true });
  assert.deepEqual(resumeOf(ns("bare:1"), 0), { since: undefined, lost: true }, "no history: recovery off");
  assert.deepEqual(resumeOf(ns("live:1"), undefined), { since: undefined, lost: false }, "no resume asked");
});
