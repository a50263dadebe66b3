// @ts-check
// A threshold on a metric nobody declares: k6 refuses it at startup (104) rather than pass it on no data.
export const options = {
  scenarios: { once: { executor: "shared-iterations" } },
  thresholds: { rtgw_nothing: ["count==0"] },
};

export default function () {}
