// Which transport the next connection attempt uses (pure): WebSocket first, SSE once enough WebSocket attempts in
// a row closed before they opened (a network or proxy that breaks WebSocket), if the application allows SSE.
import { RtgwError } from "./errors.js";
import type { Transport } from "./events.js";

export interface TransportChoice {
  transports: readonly Transport[];
  current: Transport;
  /** WebSocket attempts in a row that closed before they opened, this one included. */
  failuresInARow: number;
  threshold: number;
}

/** The transport after a failed attempt. Sticky: a client that fell back to SSE stays on it. */
export function transportAfterFailure(c: TransportChoice): Transport {
  if (c.current === "sse") return "sse";
  return c.transports.includes("sse") && c.failuresInARow >= c.threshold ? "sse" : "websocket";
}

/** What publish and presence reject with over SSE: that direction does not exist there. */
export function oneWayError(what: string, channel: string): RtgwError {
  const message = `${what} is not possible over SSE (receive only; the WebSocket could not connect): publish through the server API`;
  return new RtgwError("transport", message, "client", { channel });
}
