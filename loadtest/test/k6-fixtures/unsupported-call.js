// @ts-check
// check() with tags, which the runtime does not record: the first iteration stops the whole run (107).
import { check } from "k6";

export const options = { scenarios: { many: { executor: "per-vu-iterations", vus: 2, iterations: 50 } } };

export default function () {
  check(1, { one: (v) => v === 1 }, { kind: "tagged" });
}
