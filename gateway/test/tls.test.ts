// TLS on the client port (RTGW_TLS_CERT_FILE / RTGW_TLS_KEY_FILE → uWS SSLApp), with a self-signed certificate
// made by openssl for this test: wss:// and https:// work for a client trusting it, plain ws:// does not.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { type GatewayProcess, startGateway, stopAllGateways } from "../../test-support/gateway.js";

describe("TLS on the client port", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgw-tls-"));
  const [certFile, keyFile] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  let ca = "";
  let gw: GatewayProcess;
  before(async () => {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ],
      { stdio: "ignore" },
    );
    ca = readFileSync(certFile, "utf8");
    gw = await startGateway({
      env: { RTGW_TLS_CERT_FILE: certFile, RTGW_TLS_KEY_FILE: keyFile },
      tls: { ca },
    });
  });
  after(async () => {
    await stopAllGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  it("wss:// carries the protocol for a client that trusts the certificate", async () => {
    assert.match(gw.wsUrl, /^wss:\/\//);
    const ws = new WebSocket(gw.wsUrl, { ca });
    const welcome = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.once("message", (d) => resolve(JSON.parse(d.toString())));
      ws.once("error", reject);
    });
    assert.equal(welcome.type, "welcome");
    ws.send(JSON.stringify({ type: "ping", id: 1 }));
    const pong = await new Promise<Record<string, unknown>>((r) =>
      ws.once("message", (d) => r(JSON.parse(d.toString()))),
    );
    assert.deepEqual(pong, { type: "pong", id: 1 });
    ws.close();
  });

  it("https:// serves the HTTP routes; a client that does not trust the certificate is refused", async () => {
    const status = await new Promise<number>((resolve, reject) =>
      httpsGet(`${gw.url}/readyz`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject),
    );
    assert.equal(status, 200);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(gw.wsUrl); // no ca: the self-signed certificate is not trusted
        ws.once("open", resolve);
        ws.once("error", reject);
      }),
      /self[- ]signed|certificate/i,
    );
    // Plain ws:// to the TLS port gets no WebSocket.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(gw.wsUrl.replace("wss://", "ws://"), { handshakeTimeout: 3000 });
        ws.once("open", resolve);
        ws.once("error", reject);
      }),
    );
  });

  it("only one of the two files: exits 2", async () => {
    await assert.rejects(
      startGateway({ env: { RTGW_TLS_CERT_FILE: certFile } }),
      /exited with 2[\s\S]*RTGW_TLS_CERT_FILE and RTGW_TLS_KEY_FILE go together/,
    );
  });
});
