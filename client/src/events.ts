// The client's events, and the small typed emitter that delivers them the same in Node and in the browser.
import type { PresenceMember } from "../../protocol/index.js";
import type { RtgwError } from "./errors.js";
import type { JsonValue, ResyncEvent } from "./subscriptions.js";

export type ClientState = "connecting" | "connected" | "disconnected" | "reconnecting" | "closed";
/** How the client reaches the gateway: a WebSocket, or the one-way SSE fallback (receive only). */
export type Transport = "websocket" | "sse";

export interface StateChange {
  state: ClientState;
  previous: ClientState;
  /** The transport of the connection this change is about (the next attempt's, while reconnecting). */
  transport: Transport;
  /** disconnected/closed: the close code and reason the socket ended with. */
  closeCode?: number;
  closeReason?: string;
  /** reconnecting: how long the client waits before the next attempt. */
  retryInMs?: number;
}

export interface PresenceEvent {
  channel: string;
  kind: "join" | "leave";
  member: PresenceMember;
}

export interface ClientEvents {
  state: [StateChange];
  welcome: [{ connectionId: string; node: string }];
  /** The gateway asked this client to move (drain or shed); it reconnects no sooner than afterMs from now. */
  reconnect: [{ afterMs: number; reason: string }];
  /** Continuity broke on a channel (recovered:false, a resync frame, or a hole that never filled): refetch. */
  resync: [ResyncEvent];
  presence: [PresenceEvent];
  /** The gateway subscribed this connection to a channel itself (its connect hook's `channels`). */
  subscribed: [{ channel: string; offset: number; epoch: string }];
  /** A message on a server-side channel (one the client did not subscribe to itself). */
  message: [{ channel: string; offset: number; data: JsonValue }];
  error: [RtgwError];
}

type Listener<A extends unknown[]> = (...args: A) => void;
type AnyListener = (...args: never[]) => void;

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #listeners = new Map<keyof E, Set<AnyListener>>();

  /** Listen; returns a function that stops listening. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as unknown as AnyListener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener as unknown as AnyListener);
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Call every listener; one that throws does not stop the others (its error goes to onListenerError). */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as unknown as Listener<E[K]>)(...args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }

  protected onListenerError(_event: keyof E, _error: unknown): void {}
}
