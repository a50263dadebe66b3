// Connection admission, one for both transports (the WebSocket upgrade and `GET /sse`): Origin, refusal (draining,
// full, broker down), then the token check or the connect hook, and the refusal again once that answered. The
// decisions are pure (a table test covers them); `createAdmission` is the thin shell around the async checks.
import { ErrorCode } from "../../protocol/index.js";
import { type Authenticator, type AuthResult, awaitingToken, type Permissions } from "./auth.js";
import * as metrics from "./metrics.js";
import { upgradeOriginAllowed } from "./origins.js";
import { type ConnectHook, type ConnectOutcome, connectRequest } from "./proxy/connect.js";

/** Why no connection is taken now: status, code, sentence; undefined when one is. */
export type Refusal = [503, ErrorCode, string] | undefined;

/** What a transport found in its request (before the first await: uWS's request is gone after it). */
export interface AdmissionRequest {
  transport: "websocket" | "sse";
  /** The connection's id, which the connect hook is told (asked only when the hook is). */
  client: () => string;
  origin: string;
  /** From wherever this transport carries it (header, query, cookie); undefined: none. */
  token: string | undefined;
  /** A request header by lower-case name ("" when absent), for the connect hook's allow-list. */
  header: (name: string) => string;
  /** Read only when the connect hook is asked (before the first await, like `header`). */
  remoteAddr: () => string;
  /** `?auth=frame` (WebSocket only): with no token, open now and take the token from the first frame. */
  tokenInFrame?: boolean;
}

export type Admission =
  | {
      ok: true;
      permissions: Permissions;
      /** Channels the connect hook named (a WebSocket's open handler subscribes them; a stream keeps its URL's). */
      serverChannels: readonly string[];
      /** Opened by `?auth=frame`: only `refresh` and `ping` until the token comes. */
      awaitingToken: boolean;
    }
  | { ok: false; status: number; code: ErrorCode; message: string };

/** Who decides on the connection's rights once the gate let it through. */
export type Checker = "frame" | "hook" | "token";

export const ORIGIN_REFUSED: Admission = {
  ok: false,
  status: 403,
  code: ErrorCode.Origin,
  message: "this Origin may not connect (RTGW_ALLOWED_ORIGINS)",
};

const refused = ([status, code, message]: NonNullable<Refusal>): Refused => ({
  ok: false,
  status,
  code,
  message,
});

/** Pure: the checks before any await. Undefined: go on to the checker. */
export function gate(originAllowed: boolean, refusal: Refusal): Admission | undefined {
  if (!originAllowed) return ORIGIN_REFUSED;
  return refusal ? refused(refusal) : undefined;
}

/**
 * Pure: who checks. `?auth=frame` with no token under RTGW_AUTH=jwt defers to the first frame; with no JWT (or
 * RTGW_AUTH=none) and a connect hook, the backend decides (from the cookie, say); otherwise the token does.
 */
export function checker(
  auth: "jwt" | "none",
  hasToken: boolean,
  tokenInFrame: boolean,
  hasConnectHook: boolean,
): Checker {
  if (!hasToken && tokenInFrame && auth === "jwt") return "frame";
  if (hasConnectHook && (auth === "none" || !hasToken)) return "hook";
  return "token";
}

/** Pure: a token check's result as a connect outcome (a failed check is 401). */
export function tokenOutcome(result: AuthResult): ConnectOutcome {
  return result.ok
    ? { ok: true, permissions: result.permissions, channels: [] }
    : { ok: false, status: 401, code: ErrorCode.Unauthorized, reason: result.reason };
}

/** Pure: the answer once the checker answered, with the refusal as it stands now (a drain may have begun). */
export function settle(outcome: ConnectOutcome, refusal: Refusal, awaiting: boolean): Admission {
  if (!outcome.ok) return { ok: false, status: outcome.status, code: outcome.code, message: outcome.reason };
  if (refusal) return refused(refusal);
  return {
    ok: true,
    permissions: outcome.permissions,
    serverChannels: outcome.channels,
    awaitingToken: awaiting,
  };
}

export interface AdmissionDeps {
  auth: "jwt" | "none";
  allowedOrigins: readonly string[] | undefined;
  authenticator: Authenticator;
  connectHook: ConnectHook | undefined;
  refusal: () => Refusal;
  /** A connection being checked (counted against RTGW_MAX_CONNECTIONS meanwhile). */
  pending: (delta: 1 | -1) => void;
  now: () => number;
}

type Refused = Extract<Admission, { ok: false }>;
const countRefused = <A extends Admission>(a: A): A => {
  if (!a.ok) metrics.connectionsRejected.inc({ reason: a.code });
  return a;
};

/**
 * The refusal as it stands after a transport's own later await (SSE asks the subscribe hook after admission): the
 * same answer and the same count as admission's; undefined when the connection may still open.
 */
export function refusedNow(refusal: Refusal): Refused | undefined {
  return refusal ? countRefused(refused(refusal)) : undefined;
}

/** Admit or refuse one connection; every refusal is counted in rtgw_connections_rejected_total{reason}. */
export type AdmitConnection = (request: AdmissionRequest) => Promise<Admission>;

export function createAdmission(d: AdmissionDeps): AdmitConnection {
  return (request) => {
    const early = gate(upgradeOriginAllowed(request.origin, d.allowedOrigins), d.refusal());
    if (early) return Promise.resolve(countRefused(early));
    const who = checker(d.auth, request.token !== undefined, request.tokenInFrame ?? false, !!d.connectHook);
    const ask: Promise<ConnectOutcome> =
      who === "frame"
        ? Promise.resolve({ ok: true, permissions: awaitingToken(d.now()), channels: [] })
        : who === "hook" && d.connectHook
          ? d.connectHook.authenticate(
              connectRequest(request.client(), request.header, request.remoteAddr(), request.transport),
            )
          : d.authenticator
              .verify(request.token)
              .catch((): AuthResult => ({ ok: false, reason: "invalid token" }))
              .then(tokenOutcome);
    // Counted from now (synchronously, so a burst of upgrades cannot pass the cap) until it is answered.
    d.pending(1);
    return ask.then((outcome) => {
      d.pending(-1);
      return countRefused(settle(outcome, d.refusal(), who === "frame"));
    });
  };
}
