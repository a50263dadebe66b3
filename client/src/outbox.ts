// The requests a client has made and not yet had answered: sent at once while the socket is open, held (in call
// order) while it is not, given up at their deadline by one timer. Correlation itself is requests.ts (pure);
// this is its shell with the timer and the socket, split from client.ts so the client reads as connection logic.
import { type AckFrame, type ClientFrame, encodeFrame } from "../../protocol/index.js";
import { RtgwError } from "./errors.js";
import { PendingRequests } from "./requests.js";

export type RequestKind = "subscribe" | "unsubscribe" | "publish" | "presence" | "ping" | "refresh";
export interface RequestCallbacks {
  resolve: (ack: AckFrame) => void;
  reject: (error: RtgwError) => void;
}
interface RequestContext extends RequestCallbacks {
  frame: (id: number) => ClientFrame;
  sent: boolean;
}

export interface OutboxHost {
  /** Requests may go out now (socket open and authenticated). */
  isOpen(): boolean;
  send(text: string): void;
  timeoutMs: number;
  /** A subscribe or ping went unanswered: the socket is likely dead. */
  socketSuspect(): void;
}

export class Outbox {
  readonly #requests = new PendingRequests<RequestKind, RequestContext>();
  #queuedPublishes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly host: OutboxHost) {}

  /** Publishes waiting for a connection. */
  get queuedPublishes(): number {
    return this.#queuedPublishes;
  }

  /** Make a request: sent now when open (or `now` forces it, e.g. the first-frame token), else held. */
  request(
    kind: RequestKind,
    frame: (id: number) => ClientFrame,
    callbacks: RequestCallbacks,
    now = false,
  ): number {
    const context: RequestContext = { frame, sent: false, ...callbacks };
    const id = this.#requests.add(kind, Date.now() + this.host.timeoutMs, context);
    if (now || this.host.isOpen()) this.#send(id, context);
    else if (kind === "publish") this.#queuedPublishes += 1;
    this.#arm();
    return id;
  }

  /** The answer to `id` (ack, pong or error) arrived. */
  settle(id: number): RequestCallbacks | undefined {
    const request = this.#requests.settle(id);
    if (request) this.#arm();
    return request?.context;
  }

  /** The socket opened: send what was held, in call order. */
  flush(): void {
    for (const request of this.#requests.filter((r) => !r.context.sent)) {
      if (request.kind === "publish") this.#queuedPublishes -= 1;
      this.#send(request.id, request.context);
    }
  }

  /** The socket ended: subscribes are redone on reconnect; what else was sent has an unknown outcome. */
  failInFlight(): void {
    for (const request of this.#requests.takeAll((r) => r.context.sent)) {
      if (request.kind === "subscribe" || request.kind === "ping" || request.kind === "unsubscribe") continue;
      if (request.kind === "refresh") continue; // the next connection starts with a fresh token anyway
      request.context.reject(
        new RtgwError("disconnected", `connection dropped before the ${request.kind} was answered`, "client"),
      );
    }
    this.#arm();
  }

  /** The client closed for good: every request rejects with `error`. */
  end(error: RtgwError): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const request of this.#requests.takeAll()) {
      if (request.kind === "publish" && !request.context.sent) this.#queuedPublishes -= 1;
      request.context.reject(error);
    }
  }

  #send(id: number, context: RequestContext): void {
    context.sent = true;
    this.host.send(encodeFrame(context.frame(id)));
  }

  #arm(): void {
    const next = this.#requests.nextDeadline();
    if (next === undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#expire();
      },
      Math.max(0, next - Date.now()),
    );
  }

  #expire(): void {
    let socketSuspect = false;
    for (const request of this.#requests.expire(Date.now())) {
      if (request.kind === "publish" && !request.context.sent) this.#queuedPublishes -= 1;
      if ((request.kind === "subscribe" || request.kind === "ping") && request.context.sent)
        socketSuspect = true;
      const what = request.context.sent ? "sent, then no answer" : "never sent: no connection";
      request.context.reject(
        new RtgwError(
          "timeout",
          `${request.kind} timed out after ${this.host.timeoutMs} ms (${what})`,
          "client",
        ),
      );
    }
    if (socketSuspect) this.host.socketSuspect();
    this.#arm();
  }
}
