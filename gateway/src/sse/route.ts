// `GET /sse`: the one-way fallback for networks that break WebSocket. Admitted as an upgrade is (admission.ts:
// Origin, draining, full, broker, a token from header, query or cookie, or else the connect hook), refused with a
// JSON 4xx naming what is wrong, then each channel is subscribed through the hub exactly as a WebSocket subscribe
// is (since/epoch, or Last-Event-ID), so recovery, resyncs, fan-out, slow-consumer bounds and drains are the same
// code. Only the encoding differs (events.ts).
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { CloseCode, ErrorCode, encodeFrame } from "../../../protocol/index.js";
import { type AdmitConnection, type Refusal, refusedNow } from "../admission.js";
import { ANONYMOUS } from "../auth.js";
import type { GatewayConfig } from "../config.js";
import { type Connection, connectionId, newConnection, type Socket } from "../connection.js";
import { type Reply, reply, STATUS } from "../http.js";
import type { Hub } from "../hub.js";
import * as metrics from "../metrics.js";
import type { ResolvedNamespace } from "../namespaces/namespaces.js";
import { resumeOf, subscribeVerdict } from "../namespaces/rules.js";
import { upgradeOriginAllowed } from "../origins.js";
import type { Hooks } from "../proxy/hooks.js";
import type { RateLimiter } from "../rate-limiter.js";
import { replayStart } from "../stream/replay.js";
import { HEARTBEAT } from "./events.js";
import { parseSseRequest, type SseChannelRequest, sseToken } from "./request.js";
import { SseConnection } from "./sse-connection.js";
import type { SseTopics } from "./topics.js";

/** A requested channel with its namespace's options (resume, joinLeave), as the rules resolved them. */
type NamespacedChannel = SseChannelRequest & { namespace: ResolvedNamespace };

export interface SseRouteDeps {
  config: GatewayConfig;
  hub: Hub;
  topics: SseTopics;
  /** The admission the WebSocket upgrade goes through too (Origin, refusal, token or connect hook). */
  admit: AdmitConnection;
  /** The backend hooks: a namespace with proxySubscribe asks the subscribe hook for each of its channels. */
  hooks: Hooks;
  /** The connections' rate limits, shared with the WebSockets. */
  limits: RateLimiter<Connection>;
  /** Asked again once the subscribe hook answered. */
  refusal: () => Refusal;
  /** A stream waiting for the subscribe hook (counted against RTGW_MAX_CONNECTIONS meanwhile). */
  pending: (delta: 1 | -1) => void;
  /** Opened: counted with the WebSockets (drains, the server API and metrics reach it from there). */
  opened: (s: SseConnection) => void;
  /** Ended: forgotten like a closed WebSocket. */
  closed: (s: Socket) => void;
  slow: (s: Socket) => void;
}

export interface SseRoute {
  handle(res: HttpResponse, req: HttpRequest): void;
  preflight(res: HttpResponse, req: HttpRequest): void;
  /** Open streams on this node. */
  readonly count: number;
  stop(): void;
}

export function createSseRoute(d: SseRouteDeps): SseRoute {
  const { config } = d;
  const streams = new Set<SseConnection>();
  const heartbeat = setInterval(() => {
    for (const s of [...streams]) s.write(HEARTBEAT);
  }, config.sseHeartbeatSeconds * 1000).unref();

  /** Browsers read a cross-origin response only with these: sent only to origins RTGW_ALLOWED_ORIGINS names. */
  function cors(origin: string): Array<[string, string]> {
    if (origin === "" || config.allowedOrigins === undefined) return [];
    if (!upgradeOriginAllowed(origin, config.allowedOrigins)) return [];
    return [
      ["access-control-allow-origin", origin],
      ["access-control-allow-credentials", "true"],
      ["vary", "origin"],
    ];
  }

  /** OPTIONS /sse: a cross-origin fetch with Authorization or Last-Event-ID asks first (the SDK's does). */
  function preflight(res: HttpResponse, req: HttpRequest) {
    const allowed = cors(req.getHeader("origin"));
    res.cork(() => {
      res.writeStatus("204 No Content");
      for (const [k, v] of allowed) res.writeHeader(k, v);
      if (allowed.length > 0) {
        res.writeHeader("access-control-allow-methods", "GET");
        res.writeHeader("access-control-allow-headers", "authorization, last-event-id");
        res.writeHeader("access-control-max-age", "600");
      }
      res.endWithoutBody();
    });
  }

  function handle(res: HttpResponse, req: HttpRequest) {
    // Everything from `req` now: it is gone after the first await.
    const origin = req.getHeader("origin");
    const asked = parseSseRequest(
      req.getQuery() ?? "",
      req.getHeader("last-event-id"),
      config.maxSubscriptions,
    );
    const r = reply(res);
    const reject = (status: number, code: ErrorCode, message: string, channel?: string) => {
      if (r.aborted) return;
      const body = channel === undefined ? { error: code, message } : { error: code, message, channel };
      res.cork(() => {
        res.writeStatus(STATUS[status] ?? `${status}`);
        for (const [k, v] of cors(origin)) res.writeHeader(k, v);
        res.writeHeader("content-type", "application/json");
        res.writeHeader("cache-control", "no-store");
        res.end(JSON.stringify(body));
      });
    };
    // A request that names no valid channels is refused before any check of the connection (and not counted).
    if (!asked.ok) return reject(400, ErrorCode.BadRequest, asked.message);

    let conn: Connection | undefined;
    const admitted = d.admit({
      transport: "sse",
      client: () => {
        conn ??= newConnection(ANONYMOUS);
        return connectionId(conn);
      },
      origin,
      token: sseToken(req.getHeader("authorization"), req.getQuery("token") ?? "", req.getHeader("cookie")),
      header: (name) => req.getHeader(name),
      remoteAddr: () => Buffer.from(res.getRemoteAddressAsText()).toString(),
    });
    void admitted.then((result) => {
      if (r.aborted) return;
      if (!result.ok) return reject(result.status, result.code, result.message);
      // Each channel by the namespace rules a WebSocket subscribe goes through (namespaces/rules.ts); a
      // namespace without recovery answers a resume with recovered:false and a resync, as history cannot cover it.
      const channels: NamespacedChannel[] = [];
      const hooked: string[] = [];
      const rights = { permissions: result.permissions, awaitingToken: false };
      for (const c of asked.channels) {
        const verdict = subscribeVerdict(config.namespaces.of(c.channel), c.channel, rights, {});
        if (!verdict.ok) {
          const status = verdict.code === ErrorCode.Forbidden ? 403 : 400;
          return reject(status, verdict.code, verdict.message, c.channel);
        }
        if (verdict.namespace.proxySubscribe) hooked.push(c.channel);
        channels.push({ ...c, namespace: verdict.namespace });
      }
      // The WebSocket's per-connection limits: a stream's channels are its subscribes (and history reads).
      const stream = conn ?? newConnection(result.permissions);
      stream.permissions = result.permissions;
      for (const c of channels) {
        const ops = c.since === undefined ? (["subscribe"] as const) : (["subscribe", "history"] as const);
        for (const op of ops) {
          const policy = config.rateLimits[op];
          if (d.limits.admit(stream, op) !== "allowed") {
            metrics.rateLimited.inc({ operation: op });
            return reject(429, ErrorCode.RateLimited, `at most ${policy.burst} ${op} at once`);
          }
        }
      }
      if (hooked.length === 0) return open(res, r, stream, channels, origin);
      // Where the subscribe hook decides, it is asked for each such channel before the stream opens.
      d.pending(1);
      void Promise.all(hooked.map((channel) => d.hooks.subscribe(stream, channel))).then((verdicts) => {
        d.pending(-1);
        if (r.aborted) return;
        for (const [i, v] of verdicts.entries()) {
          if (v.kind === "allow") continue;
          if (v.kind === "unavailable") return reject(503, ErrorCode.Unavailable, v.message, hooked[i]);
          const message = v.kind === "refuse" ? v.message : v.reason;
          return reject(403, ErrorCode.Forbidden, message, hooked[i]);
        }
        const late = refusedNow(d.refusal());
        if (late) return reject(late.status, late.code, late.message);
        open(res, r, stream, channels, origin);
      });
    });
  }

  function open(
    res: HttpResponse,
    r: Reply,
    conn: Connection,
    channels: readonly NamespacedChannel[],
    origin: string,
  ): void {
    const s = new SseConnection(res, conn, channels.length === 1, {
      topics: d.topics,
      maxBackpressureBytes: config.maxBackpressureBytes,
      onSlow: d.slow,
      onClosed: (ended) => {
        streams.delete(ended);
        d.closed(ended);
      },
    });
    res.onAborted(() => {
      r.aborted = true;
      s.aborted();
    });
    const welcome = encodeFrame({ type: "welcome", connectionId: connectionId(conn), node: config.nodeId });
    res.cork(() => {
      res.writeStatus("200 OK");
      res.writeHeader("content-type", "text/event-stream; charset=utf-8");
      res.writeHeader("cache-control", "no-store");
      // nginx and friends buffer responses unless told not to.
      res.writeHeader("x-accel-buffering", "no");
      for (const [k, v] of cors(origin)) res.writeHeader(k, v);
      s.write(`: ${config.nodeId}\n\n`);
      s.write(s.encoder.frame(welcome));
    });
    streams.add(s);
    d.opened(s);
    for (const c of channels) {
      const { since, lost } = resumeOf(c.namespace, c.since);
      d.hub
        .subscribe(
          s,
          c.channel,
          { since, epoch: c.epoch, presence: false, joinLeave: c.namespace.joinLeave },
          (result) => {
            const recovered = lost ? false : result.recovered;
            const start = replayStart(since, c.epoch, recovered === true, result.position);
            s.write(s.encoder.subscribed(c.channel, result.position, recovered, start));
          },
        )
        .catch(() => s.end(CloseCode.TryAgainLater, "broker unavailable"));
    }
  }

  return {
    handle,
    preflight,
    get count() {
      return streams.size;
    },
    stop() {
      clearInterval(heartbeat);
    },
  };
}
