import assert from "node:assert/strict";
import { test } from "node:test";
import { TODAYS_NAMESPACE_OPTIONS } from "../../../test-support/namespace-defaults.js";
import { parseConfig } from "../../src/config.js";
import { parseConfigFile } from "../../src/namespaces/config-file.js";
import { createNamespaces, namespaceOf } from "../../src/namespaces/namespaces.js";
import type { ConfigFile } from "../../src/namespaces/schema.js";

const base = { historySize: 100, historyTtlSeconds: 300 };
const file = (text: string): ConfigFile => {
  const parsed = parseConfigFile("rtgw.yaml", text);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("\n"));
  return parsed.value;
};

test("a channel's namespace is the part before its first colon", () => {
  for (const [channel, ns] of [
    ["chat:42", "chat"],
    ["chat:42:x", "chat"],
    ["news", ""],
    [":x", ""],
  ] as const)
    assert.equal(namespaceOf(channel), ns, channel);
});

test("no file: every channel in the default namespace with today's behaviour", () => {
  const ns = createNamespaces(base);
  const lookup = ns.of("chat:42");
  assert.ok(lookup.ok);
  assert.deepEqual(lookup.namespace, {
    name: "",
    historySize: 100,
    historyTtlSeconds: 300,
    ...TODAYS_NAMESPACE_OPTIONS,
  });
});

test("a declared namespace's options, the rest from the defaults; undeclared ones refused unless asked", () => {
  const options = file(`
namespaces:
  chat: { historySize: 0, publish: server }
  feed: { presence: false, joinLeave: false, subscribe: anyone }
`);
  const ns = createNamespaces(base, options);
  const chat = ns.of("chat:1");
  assert.ok(chat.ok);
  assert.equal(chat.namespace.name, "chat");
  assert.equal(chat.namespace.historySize, 0);
  assert.equal(chat.namespace.recovery, false, "no history: nothing to recover from");
  assert.equal(chat.namespace.publish, "server");
  assert.equal(chat.namespace.historyTtlSeconds, 300);
  const feed = ns.of("feed:x");
  assert.ok(feed.ok);
  assert.deepEqual([feed.namespace.presence, feed.namespace.subscribe], [false, "anyone"]);
  assert.deepEqual(ns.of("other:1"), {
    ok: false,
    message: "namespace other is not declared (channel other:1)",
  });
  assert.ok(ns.of("plain").ok, "a channel with no colon is in the default namespace");
  const hooksOnly = createNamespaces(base, file("proxy:\n  connect: { url: 'http://127.0.0.1:1/connect' }"));
  assert.ok(hooksOnly.of("other:1").ok, "no namespace declared: nothing is undeclared");
  assert.equal(
    createNamespaces(base, file("undeclared: refuse")).of("other:1").ok,
    false,
    "unless asked for",
  );
  const lenient = createNamespaces(base, file("undeclared: default\ndefault: { historySize: 5 }"));
  const other = lenient.of("other:1");
  assert.ok(other.ok);
  assert.equal(other.namespace.historySize, 5);
});

test("JSON is read too", () => {
  const options = file('{"namespaces": {"chat": {"recovery": false}}}');
  assert.equal(options.namespaces.chat?.recovery, false);
});

test("every bad file is a sentence naming the file and the field", () => {
  const cases: [string, string][] = [
    [
      "namespaces:\n  chat: { histroySize: 5 }",
      "RTGW_CONFIG rtgw.yaml: namespaces.chat.histroySize is not an option (a typo?)",
    ],
    ["namespaces:\n  chat: { historySize: -1 }", "RTGW_CONFIG rtgw.yaml: namespaces.chat.historySize"],
    ["namespaces:\n  chat: { publish: everyone }", "RTGW_CONFIG rtgw.yaml: namespaces.chat.publish"],
    ["namespaces:\n  'a b': {}", "RTGW_CONFIG rtgw.yaml: namespaces.a b"],
    ["namespaces: [1, 2]", "RTGW_CONFIG rtgw.yaml: namespaces"],
    [
      "namespaces:\n  chat: { proxyPublish: true }",
      "RTGW_CONFIG rtgw.yaml: namespaces.chat.proxyPublish needs proxy.publish",
    ],
    [
      "proxy:\n  connect: { url: 'ftp://x' }",
      "RTGW_CONFIG rtgw.yaml: proxy.connect.url must be an http(s) URL",
    ],
    [
      "proxy:\n  connect: { url: 'http://x', timeoutMs: 0 }",
      "RTGW_CONFIG rtgw.yaml: proxy.connect.timeoutMs",
    ],
    ["key: [unclosed", "RTGW_CONFIG rtgw.yaml: not valid YAML or JSON"],
  ];
  for (const [text, start] of cases) {
    const parsed = parseConfigFile("rtgw.yaml", text);
    assert.ok(!parsed.ok, text);
    assert.ok(
      parsed.errors.some((e) => e.startsWith(start)),
      `${text}\n  expected one starting: ${start}\n  got: ${parsed.errors.join(" | ")}`,
    );
  }
});

test("RTGW_CONFIG: read through the gateway's config, an unreadable or bad file fails the parse", () => {
  const files: Record<string, string> = { "/etc/rtgw.yaml": "namespaces:\n  chat: { historySize: 7 }" };
  const read = (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Error("ENOENT: no such file");
    return text;
  };
  const ok = parseConfig({ RTGW_CONFIG: "/etc/rtgw.yaml" }, read);
  assert.ok(ok.ok);
  const chat = ok.config.namespaces.of("chat:1");
  assert.ok(chat.ok);
  assert.equal(chat.namespace.historySize, 7);
  assert.equal(ok.config.configFile, "/etc/rtgw.yaml");
  const missing = parseConfig({ RTGW_CONFIG: "/nope.yaml" }, read);
  assert.deepEqual(missing, {
    ok: false,
    errors: ["RTGW_CONFIG /nope.yaml: cannot be read (ENOENT: no such file)"],
  });
  const none = parseConfig({}, read);
  assert.ok(none.ok);
  assert.equal(none.config.configFile, undefined);
  assert.deepEqual(none.config.proxy, {});
});
