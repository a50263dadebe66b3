// @ts-check
// connect-hold.js as it is, with one threshold no run can meet: the run must exit 99.
import { options as base } from "../../k6/connect-hold.js";

export { default } from "../../k6/connect-hold.js";

export const options = { ...base, thresholds: { ...base.thresholds, rtgw_subscribe_ms: ["p(99)<0"] } };
