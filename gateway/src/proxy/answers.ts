// What the backend may answer each hook, and what the gateway decides from it: pure (zod parses the answer, a
// function turns it into a verdict), so every answer shape is table-tested without a socket or a backend.
import { z } from "zod";
import { CHANNEL_RE, MAX_CHANNEL_LENGTH } from "../../../protocol/index.js";

/**
 * What a hook call comes to. `allow` carries what the hook returned; `refuse` becomes a `forbidden` error (or a
 * 401 at connect); `disconnect` closes the socket with the backend's code; `unavailable` means no usable answer
 * (timeout, network, a non-2xx status, an answer that does not parse): the client may try again later.
 */
export type Verdict<T> =
  | { kind: "allow"; value: T }
  | { kind: "refuse"; message: string }
  | { kind: "disconnect"; code: number; reason: string }
  | { kind: "unavailable"; message: string };

const channel = z.string().min(1).max(MAX_CHANNEL_LENGTH).regex(CHANNEL_RE);
const patterns = z.array(z.string().min(1).max(256)).max(1000);
/** Unix seconds, like a JWT's `exp`. */
const unixSeconds = z.number().int().positive();

export const connectResult = z.object({
  /** The user id: the `sub` other members see in presence and that the server API's `disconnect` names. */
  user: z.string().max(256),
  /** When the session ends (unix seconds); the refresh hook is asked to extend it. None: it never expires. */
  expireAt: unixSeconds.optional(),
  /** Channel patterns (as in a JWT's `channels.subscribe`) the connection may subscribe to. Default: none. */
  subscribe: patterns.optional(),
  /** Channel patterns the connection may publish to. Default: none. */
  publish: patterns.optional(),
  /** Channels the gateway subscribes the connection to itself (server-side subscriptions). */
  channels: z.array(channel).max(100).optional(),
});
export type ConnectResult = z.output<typeof connectResult>;

/** The subscribe hook allows with any `result` object (its fields are for later versions). */
export const subscribeResult = z.object({});
/** The publish hook may replace the data (`data`); without it the client's data is published as sent. */
export const publishResult = z.object({ data: z.json().optional() });
export type PublishResult = z.output<typeof publishResult>;
/** The refresh hook extends the session to `expireAt`, or ends it (`expired: true`). */
export const refreshResult = z.object({ expired: z.boolean().optional(), expireAt: unixSeconds.optional() });
export type RefreshResult = z.output<typeof refreshResult>;

const envelope = z.union([
  z.object({ error: z.object({ code: z.number().int().optional(), message: z.string().max(1024) }) }),
  // 4000-4999: the application's range of WebSocket close codes.
  z.object({
    disconnect: z.object({ code: z.number().int().min(4000).max(4999), reason: z.string().max(120) }),
  }),
  z.object({ result: z.unknown() }),
]);

/** Parse a backend answer with the hook's result schema. Never throws. */
export function readAnswer<T>(hook: string, body: unknown, result: z.ZodType<T>): Verdict<T> {
  const outer = envelope.safeParse(body);
  if (!outer.success)
    return { kind: "unavailable", message: `the ${hook} hook answered neither result, error nor disconnect` };
  const answer = outer.data;
  if ("error" in answer)
    return { kind: "refuse", message: answer.error.message || `refused by the ${hook} hook` };
  if ("disconnect" in answer) return { kind: "disconnect", ...answer.disconnect };
  const parsed = result.safeParse(answer.result);
  if (parsed.success) return { kind: "allow", value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `result.${issue.path.join(".")}: ` : "result: ";
  return { kind: "unavailable", message: `the ${hook} hook's answer is invalid (${where}${issue?.message})` };
}

/** A session's end must lie ahead: an `expireAt` already past is no session at all. */
export function checkConnect(v: Verdict<ConnectResult>, nowMs: number): Verdict<ConnectResult> {
  if (v.kind === "allow" && v.value.expireAt !== undefined && v.value.expireAt * 1000 <= nowMs)
    return { kind: "refuse", message: "the connect hook's session has already expired" };
  return v;
}

/** What a refresh answer means for the session: its new end, or that it ends now (close 4003). */
export function refreshOutcome(
  v: Verdict<RefreshResult>,
  nowMs: number,
  currentEndMs: number,
): { extendTo: number } | { end: string } | { retry: string } {
  if (v.kind === "unavailable") return { retry: v.message };
  if (v.kind === "refuse") return { end: v.message };
  if (v.kind === "disconnect") return { end: v.reason };
  if (v.value.expired === true) return { end: "session expired" };
  const next = v.value.expireAt === undefined ? undefined : v.value.expireAt * 1000;
  if (next === undefined || next <= nowMs) return { end: "session expired" };
  // Never back in time: a late answer cannot shorten what a newer one granted.
  return { extendTo: Math.max(next, currentEndMs) };
}

/** The data to publish: the backend's rewrite when it gave one, else the client's (as JSON text). */
export function publishedData(result: PublishResult, clientData: unknown): string {
  return JSON.stringify(result.data === undefined ? clientData : result.data);
}

/** The metric label of a verdict (rtgw_proxy_calls_total{result}). */
export function verdictLabel(v: Verdict<unknown>, rewritten = false): string {
  return v.kind === "allow" ? (rewritten ? "rewrite" : "allow") : v.kind;
}
