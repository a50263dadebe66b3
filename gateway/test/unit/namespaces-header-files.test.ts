// RTGW_CONFIG's proxy.<hook>.headerFiles: header values read from files at start (a mounted Secret), so a
// credential the backend checks never sits in the config file (which a ConfigMap holds in clear).
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfig } from "../../src/config.js";
import { parseConfigFile, readConfigFile } from "../../src/namespaces/config-file.js";

const reader = (files: Record<string, string>) => (path: string) => {
  const text = files[path];
  if (text === undefined) throw new Error("ENOENT: no such file");
  return text;
};

const CONFIG = `
proxy:
  connect:
    url: http://backend:8080/connect
    headers: { X-Gateway: rtgw }
    headerFiles: { Authorization: /etc/rtgw/hooks/connect/Authorization }
`;

test("a header file's value joins the hook's headers (one trailing newline dropped)", () => {
  const read = reader({
    "/etc/rtgw.yaml": CONFIG,
    "/etc/rtgw/hooks/connect/Authorization": "Bearer s3cret\n",
  });
  const parsed = parseConfig({ RTGW_CONFIG: "/etc/rtgw.yaml" }, read);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("\n"));
  assert.deepEqual(parsed.config.proxy.connect?.headers, {
    "X-Gateway": "rtgw",
    Authorization: "Bearer s3cret",
  });
});

test("an unreadable header file, or one that is no header value, fails the parse naming the field and path", () => {
  const missing = readConfigFile("/etc/rtgw.yaml", reader({ "/etc/rtgw.yaml": CONFIG }));
  assert.deepEqual(missing, {
    ok: false,
    errors: [
      "RTGW_CONFIG /etc/rtgw.yaml: proxy.connect.headerFiles.Authorization: /etc/rtgw/hooks/connect/Authorization cannot be read (ENOENT: no such file)",
    ],
  });
  for (const bad of ["", "two\nlines", "x".repeat(4097)]) {
    const r = readConfigFile(
      "/etc/rtgw.yaml",
      reader({ "/etc/rtgw.yaml": CONFIG, "/etc/rtgw/hooks/connect/Authorization": bad }),
    );
    assert.ok(!r.ok);
    assert.match(r.errors.join(), /headerFiles\.Authorization: .* does not hold one header value/);
  }
});

test("a header named in both headers and headerFiles (any case), or a relative path, is refused", () => {
  const twice = parseConfigFile(
    "f.yaml",
    "proxy:\n  publish: { url: 'http://b', headers: { authorization: x }, headerFiles: { Authorization: /a } }",
  );
  assert.deepEqual(twice, {
    ok: false,
    errors: [
      "RTGW_CONFIG f.yaml: proxy.publish.headerFiles.Authorization is set twice (headers and headerFiles name the same header)",
    ],
  });
  const relative = parseConfigFile("f.yaml", "proxy:\n  publish: { url: 'http://b', headerFiles: { A: a } }");
  assert.ok(!relative.ok);
  assert.match(relative.errors.join(), /proxy\.publish\.headerFiles\.A must be an absolute path/);
});
