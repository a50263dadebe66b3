// Applying the server API's fleet orders on this node: every node hears each order (broker control channel) and
// acts on its own sockets of that user. `disconnect` closes them with 4002 (terminal: the SDK does not reconnect);
// `unsubscribe` ends the one subscription and says so with an `unsubscribed` frame naming the channel.
import { CloseCode, encodeFrame } from "../../../protocol/index.js";
import type { ControlMessage } from "../broker/broker.js";
import type { Socket } from "../connection.js";
import type { Hub } from "../hub.js";

/** The user of a connection is its JWT `sub`; anonymous connections are nobody's and never match. */
export function socketsOf(sockets: Iterable<Socket>, user: string): Socket[] {
  const picked: Socket[] = [];
  for (const ws of sockets) {
    const conn = ws.getUserData();
    if (!conn.closed && conn.permissions.sub === user) picked.push(ws);
  }
  return picked;
}

/** Apply one order to the local sockets; returns how many were acted on. A scan: orders are rare, sockets many. */
export function applyControl(message: ControlMessage, sockets: Iterable<Socket>, hub: Hub): number {
  let acted = 0;
  // Picked first: closing a socket removes it from `sockets` while we would still be walking it.
  for (const ws of socketsOf(sockets, message.user)) {
    if (message.kind === "disconnect") {
      ws.end(CloseCode.Disconnected, "disconnected by the server");
      acted++;
    } else if (hub.unsubscribe(ws, message.channel)) {
      hub.send(ws, encodeFrame({ type: "unsubscribed", channel: message.channel, reason: "server" }));
      acted++;
    }
  }
  return acted;
}
