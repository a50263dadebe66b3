// What the gateway does with each client frame. server.ts routes WebSocket messages here.

import {
  type ClientFrame,
  CloseCode,
  decodeClientFrame,
  ErrorCode,
  encodeError,
  encodeFrame,
  type FrameErrorCode,
  type SubscribeFrame,
} from "../../protocol/index.js";
import type { Authenticator } from "./auth.js";
import type { Broker } from "./broker/broker.js";
import { BrokerUnavailableError } from "./broker/broker.js";
import type { GatewayConfig } from "./config.js";
import { type Connection, channelCount, channelsOf, type Socket } from "./connection.js";
import type { Hub } from "./hub.js";
import { messagesReceived, rateLimited } from "./metrics.js";
import type { ResolvedNamespace } from "./namespaces/namespaces.js";
import { mayRead, presenceVerdict, publishVerdict, resumeOf, subscribeVerdict } from "./namespaces/rules.js";
import { exposeMember } from "./presence-fields.js";
import { answered, type Hooks } from "./proxy/hooks.js";
import type { LimitedOperation } from "./rate-limit.js";
import type { RateLimiter } from "./rate-limiter.js";

export interface SessionDeps {
  config: GatewayConfig;
  broker: Broker;
  hub: Hub;
  auth: Authenticator;
  /** The backend hooks (proxy/): where a namespace asks one, it decides instead of the connection's rights. */
  hooks: Hooks;
  /** Each connection's rate limits (RTGW_*_RATE, RTGW_*_BURST, RTGW_RATE_LIMIT_STRIKES). */
  limits: RateLimiter<Connection>;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export function createSession(d: SessionDeps) {
  const send = (ws: Socket, frame: string) => {
    if (!ws.getUserData().closed) d.hub.send(ws, frame);
  };
  const fail = (ws: Socket, id: number | undefined, code: FrameErrorCode, message: string) =>
    send(ws, encodeError(id, code, message));
  const corked = (ws: Socket, fn: () => void) => {
    if (!ws.getUserData().closed) ws.cork(fn);
  };
  /** Whether `op` fits its bucket; otherwise answered here (rate_limited, or close 1008 past the strikes). */
  const admitted = (ws: Socket, op: LimitedOperation, id: number): boolean => {
    const verdict = d.limits.admit(ws.getUserData(), op);
    const policy = d.config.rateLimits[op];
    if (verdict === "allowed") return true;
    rateLimited.inc({ operation: op });
    if (verdict === "abuse") ws.end(CloseCode.Policy, `${op} rate limit abused`);
    else fail(ws, id, ErrorCode.RateLimited, `at most ${policy.rate} ${op} per second`);
    return false;
  };
  const brokerError = (ws: Socket, id: number, err: unknown) =>
    corked(ws, () =>
      fail(
        ws,
        id,
        ErrorCode.Unavailable,
        err instanceof BrokerUnavailableError ? err.message : "broker error",
      ),
    );

  /** The subscribe's own limits: not yet subscribed, and a slot left. Answered here when not. */
  const subscribable = (ws: Socket, f: SubscribeFrame): boolean => {
    if (d.hub.subscribed(ws, f.channel)) {
      fail(ws, f.id, ErrorCode.BadRequest, `already subscribed to ${f.channel}`);
      return false;
    }
    if (channelCount(ws.getUserData()) >= d.config.maxSubscriptions) {
      fail(
        ws,
        f.id,
        ErrorCode.BadRequest,
        `at most ${d.config.maxSubscriptions} subscriptions per connection`,
      );
      return false;
    }
    return true;
  };
  const startSubscribe = (ws: Socket, f: SubscribeFrame, ns: ResolvedNamespace) => {
    const resumed = resumeOf(ns, f.since);
    const opts = {
      since: resumed.since,
      epoch: f.epoch,
      presence: f.presence ?? false,
      joinLeave: ns.joinLeave,
    };
    d.hub
      .subscribe(ws, f.channel, opts, (r) =>
        send(
          ws,
          encodeFrame({
            type: "ack",
            id: f.id,
            offset: r.position.offset,
            epoch: r.position.epoch,
            recovered: resumed.lost ? false : r.recovered,
          }),
        ),
      )
      .catch((err: unknown) => brokerError(ws, f.id, err));
  };

  const handlers: { [K in ClientFrame["type"]]: (ws: Socket, f: Extract<ClientFrame, { type: K }>) => void } =
    {
      ping(ws, f) {
        send(ws, encodeFrame({ type: "pong", id: f.id }));
      },

      subscribe(ws, f) {
        if (!admitted(ws, "subscribe", f.id)) return;
        if (f.since !== undefined && !admitted(ws, "history", f.id)) return;
        const conn = ws.getUserData();
        const verdict = subscribeVerdict(d.config.namespaces.of(f.channel), f.channel, conn, f);
        if (!verdict.ok) return fail(ws, f.id, verdict.code, verdict.message);
        if (!subscribable(ws, f)) return;
        const { namespace } = verdict;
        if (!namespace.proxySubscribe) return startSubscribe(ws, f, namespace);
        // Checked again after the call: another subscribe may have filled the slot meanwhile.
        d.hooks.subscribe(conn, f.channel).then((v) =>
          corked(ws, () => {
            if (answered(ws, v, (code, message) => fail(ws, f.id, code, message)) && subscribable(ws, f))
              startSubscribe(ws, f, namespace);
          }),
        );
      },

      unsubscribe(ws, f) {
        if (!admitted(ws, "unsubscribe", f.id)) return;
        if (!d.hub.unsubscribe(ws, f.channel))
          return fail(ws, f.id, ErrorCode.NotFound, `not subscribed to ${f.channel}`);
        send(ws, encodeFrame({ type: "ack", id: f.id }));
      },

      publish(ws, f) {
        const conn = ws.getUserData();
        const verdict = publishVerdict(d.config.namespaces.of(f.channel), f.channel, conn);
        if (!verdict.ok) return fail(ws, f.id, verdict.code, verdict.message);
        const hooked = verdict.namespace.proxyPublish;
        if (!admitted(ws, "publish", f.id)) return;
        const publish = (data: string) => {
          messagesReceived.inc();
          return d.broker.publish(f.channel, data).then(
            (p) =>
              corked(ws, () =>
                send(ws, encodeFrame({ type: "ack", id: f.id, offset: p.offset, epoch: p.epoch })),
              ),
            (err: unknown) => brokerError(ws, f.id, err),
          );
        };
        if (!hooked) return void publish(JSON.stringify(f.data));
        // Published only when the backend allowed, with the data it gave back (if any).
        d.hooks.publish(conn, f.channel, f.data).then((v) => {
          if (v.kind === "allow") return void publish(v.value);
          corked(ws, () => answered(ws, v, (code, message) => fail(ws, f.id, code, message)));
        });
      },

      refresh(ws, f) {
        if (!admitted(ws, "refresh", f.id)) return;
        if (d.hooks.accepted(ws.getUserData().permissions))
          return fail(
            ws,
            f.id,
            ErrorCode.BadRequest,
            "this connection's session is the backend's (connect hook)",
          );
        d.auth.verify(f.token).then((result) =>
          corked(ws, () => {
            const conn = ws.getUserData();
            if (!result.ok) {
              // No token yet and a bad one now: nothing to fall back on. An expired one only needs a fresh one.
              if (conn.awaitingToken)
                return result.reason === "token expired"
                  ? ws.end(CloseCode.TokenExpired, result.reason)
                  : ws.end(CloseCode.Policy, result.reason);
              return fail(ws, f.id, ErrorCode.Forbidden, `refresh refused: ${result.reason}`);
            }
            if (!conn.awaitingToken && result.permissions.sub !== conn.permissions.sub)
              return fail(ws, f.id, ErrorCode.Forbidden, "refresh refused: the token is for another sub");
            // Never back in time: also keeps two refreshes in flight from landing in the wrong order.
            const [now, was] = [result.permissions.expiresAtMs ?? 0, conn.permissions.expiresAtMs ?? 0];
            if (!conn.awaitingToken && now < was)
              return fail(
                ws,
                f.id,
                ErrorCode.BadRequest,
                "refresh refused: expires before the current token",
              );
            conn.permissions = result.permissions;
            if (conn.awaitingToken) conn.awaitingToken = false;
            // Rights may have shrunk: end each subscription the new token no longer allows, naming it.
            for (const channel of channelsOf(conn)) {
              // A channel the subscribe hook allowed is the backend's call, not the token's.
              const found = d.config.namespaces.of(channel);
              if (found.ok && (found.namespace.proxySubscribe || mayRead(found.namespace, channel, conn)))
                continue;
              d.hub.unsubscribe(ws, channel);
              const why = `subscription to ${channel} ended: the refreshed token does not allow it`;
              send(ws, encodeError(undefined, ErrorCode.Forbidden, why, channel));
            }
            send(ws, encodeFrame({ type: "ack", id: f.id }));
          }),
        );
      },

      presence(ws, f) {
        if (!admitted(ws, "presence", f.id)) return;
        const conn = ws.getUserData();
        const subscribed = d.hub.subscribed(ws, f.channel);
        const verdict = presenceVerdict(d.config.namespaces.of(f.channel), f.channel, conn, subscribed);
        if (!verdict.ok) return fail(ws, f.id, verdict.code, verdict.message);
        d.broker.presenceList(f.channel).then(
          (entries) => {
            const members = entries.map((m) => exposeMember(m, d.config.presenceFields));
            corked(ws, () => send(ws, encodeFrame({ type: "ack", id: f.id, members })));
          },
          (err: unknown) => brokerError(ws, f.id, err),
        );
      },
    };

  /** One WebSocket message. Never throws: anything malformed gets `bad_request`. */
  return function onMessage(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    if (message.byteLength > d.config.maxMessageBytes) {
      ws.end(CloseCode.TooBig, `frame larger than ${d.config.maxMessageBytes} bytes`);
      return;
    }
    if (isBinary) {
      fail(ws, undefined, ErrorCode.BadRequest, "binary frames are not supported");
      return;
    }
    let text: string;
    try {
      text = decoder.decode(message);
    } catch {
      fail(ws, undefined, ErrorCode.BadRequest, "frame is not valid UTF-8");
      return;
    }
    const decoded = decodeClientFrame(text);
    if (!decoded.ok) {
      fail(ws, decoded.id, ErrorCode.BadRequest, decoded.message);
      return;
    }
    const frame = decoded.frame;
    if (ws.getUserData().awaitingToken && frame.type !== "refresh" && frame.type !== "ping") {
      ws.end(CloseCode.Policy, "send the token (refresh frame) first");
      return;
    }
    (handlers[frame.type] as (ws: Socket, f: ClientFrame) => void)(ws, frame);
  };
}
