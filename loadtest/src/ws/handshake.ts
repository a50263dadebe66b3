// The HTTP/1.1 upgrade handshake (RFC 6455 4.1), pure: the request bytes and the parse of the response.
import { createHash, randomBytes } from "node:crypto";

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export function newSecWebSocketKey(): string {
  return randomBytes(16).toString("base64");
}

export function expectedAccept(key: string): string {
  return createHash("sha1")
    .update(key + WS_GUID)
    .digest("base64");
}

export function upgradeRequest(
  host: string,
  pathAndQuery: string,
  key: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  let request =
    `GET ${pathAndQuery} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  for (const [name, value] of Object.entries(headers)) request += `${name}: ${value}\r\n`;
  return `${request}\r\n`;
}

export type UpgradeResult =
  | { state: "incomplete" }
  | { state: "accepted"; rest: Buffer }
  | { state: "rejected"; status: number; reason: string };

const HEADER_END = Buffer.from("\r\n\r\n");
const MAX_RESPONSE_HEAD = 16 * 1024;

/** Reads the server's answer to the upgrade. `rest` is whatever followed the head (the first frames). */
export function parseUpgradeResponse(received: Buffer, key: string): UpgradeResult {
  const end = received.indexOf(HEADER_END);
  if (end < 0) {
    if (received.length > MAX_RESPONSE_HEAD)
      return { state: "rejected", status: 0, reason: "response head too large" };
    return { state: "incomplete" };
  }
  const lines = received.subarray(0, end).toString("latin1").split("\r\n");
  const statusLine = /^HTTP\/1\.1 (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!statusLine) return { state: "rejected", status: 0, reason: `bad status line: ${lines[0]}` };
  const status = Number(statusLine[1]);
  if (status !== 101) return { state: "rejected", status, reason: statusLine[2] ?? "" };
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return { state: "rejected", status, reason: "missing Upgrade: websocket" };
  }
  if (headers.get("sec-websocket-accept") !== expectedAccept(key)) {
    return { state: "rejected", status, reason: "Sec-WebSocket-Accept does not match the key" };
  }
  return { state: "accepted", rest: received.subarray(end + HEADER_END.length) };
}
