// A small typed event emitter that runs the same in Node and in the browser.

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
