// The "k6" module: check(). Each check emits one sample of the `checks` Rate (1 pass, 0 fail) and the call
// returns whether all passed, as in k6: functions are called with the value, other values count by truthiness,
// a check that throws counts as failed and the exception goes on to the iteration.
import { Unsupported } from "../unsupported.js";
import type { VirtualUser } from "../vu.js";
import { refuseArgument } from "./strict.js";

export function k6Module(vu: VirtualUser): Record<string, unknown> {
  function check(value: unknown, checks: Record<string, unknown>, tags?: unknown): boolean {
    if (vu.inInit) throw new Error("check() is not available in the init context");
    refuseArgument("check() tags", tags);
    if (checks === null || typeof checks !== "object") throw new Error("no checks provided to `check`");
    let all = true;
    for (const [name, test] of Object.entries(checks)) {
      if (name.includes("::")) throw new Error("check names may not contain '::'");
      if (typeof test === "function" && test.constructor?.name === "AsyncFunction") {
        throw new Unsupported("an async function in check()");
      }
      let ok: boolean;
      try {
        ok = Boolean(typeof test === "function" ? test(value) : test);
      } catch (err) {
        vu.run.recordCheck(name, false);
        throw err;
      }
      vu.run.recordCheck(name, ok);
      if (!ok) all = false;
    }
    return all;
  }
  return { check };
}
