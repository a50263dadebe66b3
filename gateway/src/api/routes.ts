// The server API's routes: `POST /api/<method>` on the client port, bearer RTGW_API_KEY, a JSON body parsed with
// the method's schema from protocol/server-api.ts. One table; each entry counted and timed per method.
import type { HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { Logger } from "pino";
import type { z } from "zod";
import { ErrorCode } from "../../../protocol/index.js";
import * as api from "../../../protocol/server-api.js";
import { type Broker, BrokerUnavailableError, type ControlMessage } from "../broker/broker.js";
import type { GatewayConfig } from "../config.js";
import type { Socket } from "../connection.js";
import { checkApiKey, readJsonBody, sendJson } from "../http.js";
import type { Hub } from "../hub.js";
import * as metrics from "../metrics.js";
import { GATEWAY_VERSION } from "../version.js";
import { applyControl } from "./fleet-control.js";
import * as methods from "./methods.js";
import { startHeartbeat } from "./node-registry.js";

/** A method with its request schema; `run` gets only what that schema parsed. */
interface Route {
  schema: z.ZodType;
  run: (body: unknown, c: methods.MethodContext) => Promise<unknown>;
}
const method = <S extends z.ZodType>(
  schema: S,
  run: (body: z.output<S>, c: methods.MethodContext) => Promise<unknown>,
): Route => ({
  schema,
  // The route hands `run` the output of this very schema (readJsonBody below), so the narrowing holds.
  run: (body, c) => run(body as z.output<S>, c),
});

/** Every method, by the name in its path. */
export const METHODS: Record<string, Route> = {
  publish: method(api.publishRequest, methods.publish),
  broadcast: method(api.broadcastRequest, methods.broadcast),
  history: method(api.historyRequest, methods.history),
  presence: method(api.presenceRequest, methods.presence),
  presence_stats: method(api.presenceStatsRequest, methods.presenceStats),
  unsubscribe: method(api.unsubscribeRequest, methods.unsubscribe),
  disconnect: method(api.disconnectRequest, methods.disconnect),
  channels: method(api.channelsRequest, methods.channels),
  info: method(api.infoRequest, methods.info),
};

export interface ServerApiDeps {
  app: TemplatedApp;
  config: GatewayConfig;
  broker: Broker;
  hub: Hub;
  sockets: ReadonlySet<Socket>;
  logger: Logger;
  /** While true, each answer closes its keep-alive connection: a backend's next call goes to another pod. */
  draining: () => boolean;
}

export interface ServerApi {
  /** A fleet order from the broker's control channel: apply it to this node's sockets. */
  control(message: ControlMessage): void;
  /** What the methods run with (the admin view asks the fleet through the same methods). */
  context: methods.MethodContext;
  stop(): void;
}

export function startServerApi(d: ServerApiDeps): ServerApi {
  const startedAt = Date.now();
  const live = () => ({
    node: d.config.nodeId,
    version: GATEWAY_VERSION,
    startedAt,
    connections: d.sockets.size,
    channels: d.hub.subscriberCounts(),
  });
  const context: methods.MethodContext = {
    broker: d.broker,
    namespaces: d.config.namespaces,
    live,
    now: Date.now,
    published: (count) => metrics.messagesReceived.inc(count),
  };

  for (const [name, m] of Object.entries(METHODS)) {
    d.app.post(`/api/${name}`, async (res: HttpResponse, req) => {
      const timer = metrics.apiDuration.startTimer({ method: name });
      const done = (status: number) => {
        timer();
        metrics.apiRequests.inc({ method: name, status: String(status) });
      };
      // Headers must be read before the first await (uWS reuses the request object).
      if (!checkApiKey(res, req.getHeader("authorization"), d.config.apiKey))
        return done(d.config.apiKey ? 401 : 403);
      const { r, body } = await readJsonBody(res, m.schema, d.config.maxMessageBytes);
      if (body === undefined) return done(400); // or 413, or the client went away
      try {
        const answer = await m.run(body, context);
        sendJson(r, 200, answer, d.draining());
        done(200);
      } catch (err) {
        if (err instanceof methods.RequestRefused) {
          sendJson(r, 400, { error: err.code, message: err.message }, d.draining());
          return done(400);
        }
        if (err instanceof BrokerUnavailableError) {
          sendJson(
            r,
            503,
            { error: ErrorCode.Unavailable, message: "the broker is unavailable" },
            d.draining(),
          );
          return done(503);
        }
        d.logger.error({ err, method: name }, "server API method failed");
        sendJson(r, 500, { error: ErrorCode.Internal, message: `${name} failed` }, d.draining());
        done(500);
      }
    });
  }

  const heartbeat = startHeartbeat({
    broker: d.broker,
    ttlMs: d.config.nodeTtlSeconds * 1000,
    snapshot: live,
    logger: d.logger,
  });
  return {
    context,
    control: (message) => {
      const acted = applyControl(message, d.sockets, d.hub);
      if (acted > 0) d.logger.info({ ...message, sockets: acted }, "server API order applied");
    },
    stop: () => heartbeat.stop(),
  };
}
