// Every gateway metric, in one place. The Redis broker registers its own metrics into `registry` too.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { LIMITED_OPERATIONS } from "./rate-limit.js";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });
// process_open_fds lists /proc/self/fd on every scrape: with 18,000 sockets that took ~100 ms of the event loop per
// scrape, and the operator scrapes every few seconds (11.5 % of the gateways' CPU in a rollout's profile).
// rtgw_connections counts the sockets; process_max_fds stays.
registry.removeSingleMetric("process_open_fds");

export const connections = new Gauge({
  name: "rtgw_connections",
  help: "Open connections on this pod, WebSocket and SSE (the autoscaling signal)",
  registers: [registry],
});
export const connectionsByTransport = new Gauge({
  name: "rtgw_connections_by_transport",
  help: "Open connections by transport (websocket, sse); rtgw_connections is their sum",
  labelNames: ["transport"] as const,
  registers: [registry],
});
export const connectionsOpened = new Counter({
  name: "rtgw_connections_opened_total",
  help: "Connections accepted (WebSocket and SSE)",
  registers: [registry],
});
export const connectionsRejected = new Counter({
  name: "rtgw_connections_rejected_total",
  help: "WebSocket upgrades and SSE streams refused, by reason (full, draining, unauthorized, unavailable, origin)",
  labelNames: ["reason"] as const,
  registers: [registry],
});
export const messagesReceived = new Counter({
  name: "rtgw_messages_received_total",
  help: "Messages published through this pod (WebSocket and HTTP)",
  registers: [registry],
});
export const messagesDelivered = new Counter({
  name: "rtgw_messages_delivered_total",
  help: "Message deliveries to local sockets (one per message per subscriber)",
  registers: [registry],
});
export const deliveryLatency = new Histogram({
  name: "rtgw_delivery_latency_seconds",
  help: "Time from the broker accepting a publish to this pod sending it to its subscribers",
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
export const rateLimited = new Counter({
  name: "rtgw_rate_limited_total",
  help: "Client operations refused by their token bucket, by operation (the socket is closed 1008 past the strikes)",
  labelNames: ["operation"] as const,
  registers: [registry],
});
export const slowConsumerDisconnects = new Counter({
  name: "rtgw_slow_consumer_disconnects_total",
  help: "Sockets closed because their send buffer passed the backpressure bound",
  registers: [registry],
});
export const brokerConnected = new Gauge({
  name: "rtgw_broker_connected",
  help: "1 when the broker is connected and healthy",
  registers: [registry],
});
export const draining = new Gauge({
  name: "rtgw_draining",
  help: "1 while this pod drains",
  registers: [registry],
});
export const apiRequests = new Counter({
  name: "rtgw_api_requests_total",
  help: "Server API requests (POST /api/<method>) by method and HTTP status",
  labelNames: ["method", "status"] as const,
  registers: [registry],
});
export const apiDuration = new Histogram({
  name: "rtgw_api_request_duration_seconds",
  help: "Server API request time by method, from the request to the answer",
  labelNames: ["method"] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

// Expose the rejection reasons at 0 from the start, so rate() and alerts see them before the first one.
for (const reason of ["full", "draining", "unauthorized", "unavailable", "origin"])
  connectionsRejected.inc({ reason }, 0);
for (const transport of ["websocket", "sse"]) connectionsByTransport.set({ transport }, 0);
for (const operation of LIMITED_OPERATIONS) rateLimited.inc({ operation }, 0);

// Backend hooks (gateway/src/proxy/): one series per hook, so a slow or failing backend call is visible as such.
/** The backend hooks, the `hook` label's values. */
export const HOOKS = ["connect", "subscribe", "publish", "refresh"] as const;
export const proxyCalls = new Counter({
  name: "rtgw_proxy_calls_total",
  help: "Backend hook calls by hook and result (allow, rewrite, refuse, disconnect, unavailable)",
  labelNames: ["hook", "result"] as const,
  registers: [registry],
});
export const proxyErrors = new Counter({
  name: "rtgw_proxy_errors_total",
  help: "Backend hook calls that got no usable answer, by hook and reason (timeout, network, status, invalid)",
  labelNames: ["hook", "reason"] as const,
  registers: [registry],
});
export const proxyDuration = new Histogram({
  name: "rtgw_proxy_duration_seconds",
  help: "Backend hook call time by hook, from the request (queueing for a pooled connection included) to the answer",
  labelNames: ["hook"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
