// A module's default export or an API object that refuses names it does not have: `http.get` on a runtime that
// implements only `http.post` must throw, not read as undefined.
import { Unsupported } from "../unsupported.js";

export function strict<T extends object>(what: string, target: T): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      // JSON.stringify and await probe these; they are absent, not unsupported.
      if (key === "toJSON" || key === "then") return undefined;
      if (typeof key === "string" && !(key in object)) throw new Unsupported(`${what}.${key}`);
      return Reflect.get(object, key, receiver);
    },
  });
}

/** An argument the runtime does not implement (tags, params, protocols...) must not be passed. */
export function refuseArgument(what: string, value: unknown): void {
  if (value !== undefined && value !== null) throw new Unsupported(what);
}
