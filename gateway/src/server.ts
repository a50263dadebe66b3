// The gateway's HTTP routes and WebSocket handlers: a readable table; the work lives in named modules.

import uWS, { type TemplatedApp, type us_listen_socket } from "uWebSockets.js";
import type { Server as HttpServer } from "node:http";
import type { Logger } from "pino";
import { CloseCode, ErrorCode, encodeFrame } from "../../protocol/index.js";
import { createAdminView } from "./admin-view/admin-view.js";
import { createAdmission, type Refusal } from "./admission.js";
import { startServerApi } from "./api/routes.js";
import { type Authenticator, awaitingToken, tokenFrom } from "./auth.js";
import type { Broker, ControlMessage } from "./broker/broker.js";
import type { GatewayConfig } from "./config.js";
import {
  type Connection,
  connectionId,
  isLeaving,
  markLeaving,
  newConnection,
  type Socket,
} from "./connection.js";
import { drainSchedule, pickForShed, reconnectJitterMs, runDrainSchedule } from "./drain.js";
import { reply, sendJson, sendText } from "./http.js";
import { Hub } from "./hub.js";
import { createInternalServer } from "./internal.js";
import * as metrics from "./metrics.js";
import { PAGE_HTML } from "./page.js";
import { createHooks } from "./proxy/hooks.js";
import { subscribeServerSide } from "./proxy/server-channels.js";
import { RateLimiter } from "./rate-limiter.js";
import { createSession } from "./session.js";
import { createSseRoute } from "./sse/route.js";
import { fanOut, SseTopics } from "./sse/topics.js";

export interface ServerDeps {
  config: GatewayConfig;
  broker: Broker;
  auth: Authenticator;
  logger: Logger;
  /** RTGW_MAX_CONNECTIONS capped by the open-file limit. */
  maxConnections: number;
  onDrained: () => void;
}

export interface GatewayServer {
  readonly hub: Hub;
  listen(): Promise<{ port: number; metricsPort: number }>;
  /** Drain everything (SIGTERM, POST /admin/drain on the internal port); resolves when no connection is left or the window ended. */
  drain(): Promise<void>;
  /** Move `count` connections elsewhere, jittered over `seconds`; returns how many were picked. */
  shed(count: number, seconds: number): number;
  /** Stop listening and close every socket now (1001). */
  close(): Promise<void>;
  /** A fleet order from the broker's control channel (server API `disconnect`, `unsubscribe`). */
  control(message: ControlMessage): void;
}

const COMPRESSION = {
  off: uWS.DISABLED,
  shared: uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR,
  dedicated: uWS.DEDICATED_COMPRESSOR_256KB | uWS.SHARED_DECOMPRESSOR, // = uWS.DEDICATED_COMPRESSOR
} as const;

export function createGatewayServer(d: ServerDeps): GatewayServer {
  const { config, broker, logger } = d;
  // TLS on the client port when configured (the internal port stays plain HTTP inside the pod network).
  const app: TemplatedApp = config.tls
    ? uWS.SSLApp({ cert_file_name: config.tls.certFile, key_file_name: config.tls.keyFile })
    : uWS.App();
  const sockets = new Set<Socket>();
  let pendingUpgrades = 0;
  let draining = false;
  let drainDone: Promise<void> | undefined;
  let listenSocket: us_listen_socket | undefined;
  let metricsServer: HttpServer | undefined;

  const sseTopics = new SseTopics();
  const closeSlowConsumer = (ws: Socket) => {
    const conn = ws.getUserData();
    if (conn.closed) return;
    metrics.slowConsumerDisconnects.inc();
    conn.closed = true;
    ws.end(CloseCode.SlowConsumer, "send buffer full");
  };
  const hub = new Hub({
    // WebSockets through uWS topics, SSE streams through sseTopics: one publish reaches both.
    app: fanOut(app, sseTopics),
    broker,
    nodeId: config.nodeId,
    compress: config.compression !== "off",
    maxBackpressureBytes: config.maxBackpressureBytes,
    onSlowConsumer: closeSlowConsumer,
    presenceFields: config.presenceFields,
  });
  const limits = new RateLimiter<Connection>({
    policies: config.rateLimits,
    strikes: config.rateLimitStrikes,
    now: Date.now,
  });
  // Backend hooks (RTGW_CONFIG's proxy section): connect here, subscribe/publish in the session, refresh a sweep.
  const hooks = createHooks(config);
  hooks.startRefresh(() => sockets);
  const onMessage = createSession({ config, broker, hub, auth: d.auth, hooks, limits });
  // POST /api/<method>
  const api = startServerApi({ app, config, broker, hub, sockets, logger, draining: () => draining });

  let drained = false;
  const finishDrain = () => {
    if (drained) return;
    drained = true;
    logger.info("drained");
    d.onDrained();
  };

  const full = () => sockets.size + pendingUpgrades >= d.maxConnections;
  /** Why no connection is taken now (WebSocket upgrade and SSE alike). */
  const refusal = (): Refusal => {
    if (draining) return [503, ErrorCode.Draining, "this gateway is draining; connect to another"];
    if (full()) return [503, ErrorCode.Full, "this gateway is full; connect to another"];
    // Not ready while the broker is down: a connection here could only be answered `unavailable`.
    if (!broker.healthy()) return [503, ErrorCode.Unavailable, "this gateway's broker is unavailable"];
    return undefined;
  };
  // A connection still being checked counts against RTGW_MAX_CONNECTIONS, whichever transport it came by.
  const pending = (delta: 1 | -1) => {
    pendingUpgrades += delta;
  };
  // One admission for WebSocket upgrades and SSE streams (admission.ts).
  const admit = createAdmission({
    auth: config.auth,
    allowedOrigins: config.allowedOrigins,
    authenticator: d.auth,
    connectHook: hooks.connect,
    refusal,
    pending,
    now: Date.now,
  });
  const countConnections = () => {
    metrics.connections.set(sockets.size);
    metrics.connectionsByTransport.set({ transport: "sse" }, sse.count);
    metrics.connectionsByTransport.set({ transport: "websocket" }, sockets.size - sse.count);
  };
  /** A connection ended (WebSocket close handler, SSE stream end or abort). */
  const forget = (ws: Socket) => {
    const conn = ws.getUserData();
    conn.closed = true;
    sockets.delete(ws);
    countConnections();
    hub.closed(ws);
    // Draining and every client already gone on its own: no need to wait for the rest of the window.
    if (draining && sockets.size === 0) finishDrain();
  };
  // GET /sse: the one-way fallback, counted and drained with the WebSockets.
  const sse = createSseRoute({
    config,
    hub,
    topics: sseTopics,
    hooks,
    limits,
    admit,
    refusal,
    pending,
    opened: (s) => {
      sockets.add(s);
      countConnections();
      metrics.connectionsOpened.inc();
    },
    closed: forget,
    slow: closeSlowConsumer,
  });
  const ready = () => !draining && !full() && broker.healthy();
  const stats = () => ({
    connections: sockets.size,
    channels: hub.channelCount,
    draining,
    node: config.nodeId,
    broker: broker.kind,
    brokerHealthy: broker.healthy(),
    maxConnections: d.maxConnections,
  });

  /** Send `reconnect` then close 1012, for each picked socket at its moment in the window. */
  const leave = (targets: Socket[], windowMs: number, reason: string): Promise<void> =>
    new Promise((resolve) => {
      for (const ws of targets) markLeaving(ws.getUserData());
      const plan = drainSchedule({
        targets,
        windowMs,
        maxAfterMs: reconnectJitterMs(windowMs),
        rng: Math.random,
      });
      runDrainSchedule(
        plan,
        ({ target: ws, afterMs }) => {
          if (ws.getUserData().closed) return;
          ws.cork(() => {
            hub.send(ws, encodeFrame({ type: "reconnect", afterMs, reason }));
            if (!ws.getUserData().closed) ws.end(CloseCode.ServiceRestart, reason);
          });
        },
        resolve,
      );
    });

  app
    // ---- HTTP -----------------------------------------------------------------------------------
    .get("/", (res) => sendText(res, 200, "text/html; charset=utf-8", PAGE_HTML))
    .get("/healthz", (res) => sendJson(res, 200, { ok: true }))
    .get("/readyz", (res) => sendJson(res, ready() ? 200 : 503, { ready: ready(), ...stats() }))
    .get("/api/stats", (res) => sendJson(res, 200, stats()))
    .get("/sse", (res, req) => sse.handle(res, req))
    .options("/sse", (res, req) => sse.preflight(res, req))
    // /admin/* lives on the internal port only (internal.ts): here it is 404 like any unknown path.
    .any("/*", (res) => sendJson(res, 404, { error: ErrorCode.NotFound }))
    // ---- WebSocket ------------------------------------------------------------------------------
    .ws<Connection>("/ws", {
      compression: COMPRESSION[config.compression],
      // Well above the frame limit so the session can answer an oversized frame with 1009 itself;
      // past maxPayloadLength uWS cuts the socket without a close frame.
      maxPayloadLength: config.maxMessageBytes * 4 + 4096,
      // The gateway closes a socket past RTGW_MAX_BACKPRESSURE_BYTES itself (4001, counted); uWS's own
      // limit is a backstop at twice that, where it cuts the socket rather than drop a message silently.
      // Such a cut is not counted: it reaches `close` as 1006 with no message, exactly like a peer that
      // vanished, and there the socket can no longer be read (uWS.js invalidates it before the handler;
      // 20.30 has no `dropped` handler). The sweeps keep it out of reach: ~1.5x the bound plus one frame.
      maxBackpressure: config.maxBackpressureBytes * 2 + config.maxMessageBytes,
      closeOnBackpressureLimit: 1,
      idleTimeout: config.idleTimeoutSeconds,
      sendPingsAutomatically: true,

      upgrade(res, req, context) {
        // Everything from `req` now: it is gone after the first await.
        const key = req.getHeader("sec-websocket-key");
        const protocol = req.getHeader("sec-websocket-protocol");
        const extensions = req.getHeader("sec-websocket-extensions");
        let connection: Connection | undefined;
        const r = reply(res);
        void admit({
          transport: "websocket",
          client: () => {
            connection ??= newConnection(awaitingToken(0));
            return connectionId(connection);
          },
          origin: req.getHeader("origin"),
          token: tokenFrom(req.getHeader("authorization"), req.getQuery("token") ?? ""),
          header: (name) => req.getHeader(name),
          remoteAddr: () => Buffer.from(res.getRemoteAddressAsText()).toString(),
          // `?auth=frame` without a token: the token comes in the first frame (`refresh`), out of URLs and logs.
          tokenInFrame: req.getQuery("auth") === "frame",
        }).then((a) => {
          if (r.aborted) return;
          if (!a.ok) return sendJson(r, a.status, { error: a.code, message: a.message });
          const conn = a.awaitingToken
            ? newConnection(a.permissions, true)
            : (connection ?? newConnection(a.permissions));
          conn.permissions = a.permissions;
          res.cork(() => res.upgrade(conn, key, protocol, extensions, context));
        });
      },
      open(ws) {
        sockets.add(ws);
        countConnections();
        metrics.connectionsOpened.inc();
        const conn = ws.getUserData();
        hub.send(ws, encodeFrame({ type: "welcome", connectionId: connectionId(conn), node: config.nodeId }));
        const serverSide = hooks.connect?.takeChannels(conn.permissions) ?? [];
        if (serverSide.length > 0)
          subscribeServerSide(ws, hub, serverSide, config.maxSubscriptions, config.namespaces);
      },
      message: (ws, message, isBinary) => onMessage(ws, message, isBinary),
      close: (ws) => forget(ws),
    });

  // A token is valid for as long as it says: one sweep a second closes connections whose token expired
  // (no per-socket timers) with 4003, which tells the client to come back with a fresh token; one that never
  // sent its token (`?auth=frame`) is a policy close.
  const expirySweep =
    config.auth === "jwt" || hooks.connect
      ? setInterval(() => {
          const now = Date.now();
          for (const ws of sockets) {
            const conn = ws.getUserData();
            const expiresAt = conn.permissions.expiresAtMs;
            if (expiresAt === undefined || expiresAt > now || conn.closed) continue;
            if (conn.awaitingToken) ws.end(CloseCode.Policy, "no token within 10 s");
            else ws.end(CloseCode.TokenExpired, "token expired");
          }
        }, 1000).unref()
      : undefined;

  const gateway: GatewayServer = {
    hub,
    listen: () =>
      new Promise((resolve, reject) => {
        app.listen(config.host, config.port, (socket) => {
          if (!socket) return reject(new Error(`cannot listen on ${config.host}:${config.port}`));
          listenSocket = socket;
          const port = uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
          metricsServer = createInternalServer({
            adminKey: config.adminKey,
            // The admin view (its page and /admin/api/*), behind the same key.
            routes: (req, res) => adminView.handle(req, res),
            metricsText: async () => ({
              contentType: metrics.registry.contentType,
              text: await registryText(),
            }),
            drain: () => {
              void gateway.drain();
              return { draining: true, connections: sockets.size, seconds: config.drainSeconds };
            },
            shed: (count, seconds) => ({
              shed: gateway.shed(count, seconds ?? config.drainSeconds),
              connections: sockets.size,
            }),
          });
          metricsServer.once("error", reject);
          metricsServer.listen(config.metricsPort, config.host, () => {
            const address = metricsServer?.address();
            const metricsPort = typeof address === "object" && address ? address.port : config.metricsPort;
            resolve({ port, metricsPort });
          });
        });
      }),

    drain() {
      if (drainDone) return drainDone;
      draining = true;
      metrics.draining.set(1);
      const targets = [...sockets].filter((ws) => !isLeaving(ws.getUserData()));
      logger.info({ connections: targets.length, seconds: config.drainSeconds }, "draining");
      drainDone = leave(targets, config.drainSeconds * 1000, "draining").then(finishDrain);
      return drainDone;
    },

    shed(count, seconds) {
      const candidates = [...sockets].filter((ws) => !isLeaving(ws.getUserData()));
      const picked = pickForShed(
        // Sequence numbers count up as connections open: the newest have the highest.
        candidates.map((ws) => ({ ws, openedAt: ws.getUserData().seq })),
        count,
      ).map((c) => c.ws);
      logger.info({ count: picked.length, seconds }, "shedding connections");
      void leave(picked, seconds * 1000, "shed");
      return picked.length;
    },

    control: (message) => api.control(message),

    async close() {
      api.stop();
      hooks.close();
      sse.stop();
      if (expirySweep) clearInterval(expirySweep);
      limits.stop();
      adminView.close();
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
      for (const ws of [...sockets]) ws.end(CloseCode.GoingAway, "server stopping");
      await new Promise<void>((resolve) =>
        metricsServer ? metricsServer.close(() => resolve()) : resolve(),
      );
    },
  };

  // The admin view (page and /admin/api/*) on the internal port, behind RTGW_ADMIN_KEY like /admin/drain|shed.
  const adminView = createAdminView({
    key: config.adminKey,
    api: api.context,
    maxMessageBytes: config.maxMessageBytes,
    logger,
  });

  const registryText = () => {
    metrics.brokerConnected.set(broker.healthy() ? 1 : 0);
    return metrics.registry.metrics();
  };

  return gateway;
}
