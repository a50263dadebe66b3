// @ts-check
// Uses sleep(), which the runtime does not implement: the run must stop with 107, not skip it.
import { sleep } from "k6";

export const options = { scenarios: { once: { executor: "shared-iterations" } } };

export default function () {
  sleep(1);
}
