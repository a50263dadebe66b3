// Server-side subscriptions: the channels the connect hook named are subscribed by the gateway itself when the
// socket opens, through the hub like any subscribe (so the same gap- and duplicate-free start), and announced
// with a `subscribed` frame carrying the offset the stream starts from.
import { ErrorCode, encodeError, encodeFrame } from "../../../protocol/index.js";
import type { Socket } from "../connection.js";
import type { Hub } from "../hub.js";
import type { Namespaces } from "../namespaces/namespaces.js";

export function subscribeServerSide(
  ws: Socket,
  hub: Hub,
  channels: readonly string[],
  maxSubscriptions: number,
  namespaces: Namespaces,
): void {
  for (const channel of channels.slice(0, maxSubscriptions)) {
    if (hub.subscribed(ws, channel)) continue;
    // The backend's word stands in for the token's rights, not for the namespace's existence or options.
    const found = namespaces.of(channel);
    if (!found.ok) {
      const why = `the server-side subscription to ${channel} was not made: ${found.message}`;
      ws.cork(() => hub.send(ws, encodeError(undefined, ErrorCode.BadRequest, why, channel)));
      continue;
    }
    const opts = {
      since: undefined,
      epoch: undefined,
      presence: false,
      joinLeave: found.namespace.joinLeave,
    };
    hub
      .subscribe(ws, channel, opts, (r) =>
        hub.send(
          ws,
          encodeFrame({ type: "subscribed", channel, offset: r.position.offset, epoch: r.position.epoch }),
        ),
      )
      .catch(() => {
        if (ws.getUserData().closed) return;
        const why = `the server-side subscription to ${channel} failed: the broker is unavailable`;
        ws.cork(() => hub.send(ws, encodeError(undefined, ErrorCode.Unavailable, why, channel)));
      });
  }
}
