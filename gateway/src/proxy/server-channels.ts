// Server-side subscriptions: the channels the connect hook named are subscribed by the gateway itself when the
// socket opens, through the hub like any subscribe (so the same gap- and duplicate-free start), and announced
// with a `subscribed` frame carrying the offset the stream starts from.
import { ErrorCode, encodeError, encodeFrame } from "../../../protocol/index.js";
import type { Socket } from "../connection.js";
import type { Hub } from "../hub.js";

export function subscribeServerSide(
  ws: Socket,
  hub: Hub,
  channels: readonly string[],
  maxSubscriptions: number,
): void {
  for (const channel of channels.slice(0, maxSubscriptions)) {
    if (hub.subscribed(ws, channel)) continue;
    hub
      .subscribe(ws, channel, { since: undefined, epoch: undefined, presence: false }, (r) =>
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
