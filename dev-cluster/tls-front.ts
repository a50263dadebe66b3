// HTTPS in front of the API server. kubectl (client-go) sends bearer tokens only over TLS, so the kubeconfigs point
// here: a self-signed certificate for 127.0.0.1 (made with the openssl CLI, kept in the work directory and trusted
// through the kubeconfig's certificate-authority-data), each TLS connection piped to the plain-HTTP server.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { createServer } from "node:tls";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TlsFront {
  url: string;
  caPem: string;
  stop(): Promise<void>;
}

async function certificate(dir: string): Promise<{ key: string; cert: string }> {
  const keyFile = join(dir, "apiserver.key");
  const certFile = join(dir, "apiserver.crt");
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    try {
      await run(
        "openssl",
        [
          ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
          ...["-keyout", keyFile, "-out", certFile, "-days", "365", "-subj", "/CN=rtgw-dev-apiserver"],
          ...[
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
          ],
        ],
        { timeout: 20_000 },
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      throw new Error(
        e.code === "ENOENT"
          ? "openssl not found on PATH: the dev cluster needs it for the API server's certificate"
          : `openssl: ${e.stderr ?? e.message}`,
      );
    }
  }
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8") };
}

/** Listens on 127.0.0.1 (any free port) and pipes each connection to `target` (host:port of the HTTP server). */
export async function startTlsFront(target: URL, certDir: string): Promise<TlsFront> {
  const { key, cert } = await certificate(certDir);
  const sockets = new Set<Socket>();
  const server = createServer({ key, cert }, (client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: cert,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
