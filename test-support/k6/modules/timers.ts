// "k6/timers": setTimeout/clearTimeout on the VU's event loop. A pending timer keeps the iteration alive; an
// interrupted iteration clears its timers without running them.
import type { VirtualUser } from "../vu.js";

export function timersModule(vu: VirtualUser): Record<string, unknown> {
  const timers = new Map<number, { kill(): void }>();
  let nextId = 1;
  function setTimeout(callback: (...args: unknown[]) => void, delay = 0, ...args: unknown[]): number {
    const scope = vu.scope;
    if (!scope || vu.inInit) throw new Error("setTimeout is not available in the init context");
    if (typeof callback !== "function") throw new TypeError("setTimeout needs a function");
    const id = nextId++;
    const timer = globalThis.setTimeout(
      () => {
        timers.delete(id);
        scope.callback(() => callback(...args));
        scope.release(handle);
      },
      Math.max(0, Number(delay) || 0),
    );
    const handle = { kill: () => globalThis.clearTimeout(timer) };
    timers.set(id, handle);
    scope.hold(handle);
    return id;
  }
  function clearTimeout(id: number): void {
    const handle = timers.get(id);
    if (!handle) return;
    timers.delete(id);
    handle.kill();
    vu.scope?.release(handle);
  }
  return { setTimeout, clearTimeout };
}
