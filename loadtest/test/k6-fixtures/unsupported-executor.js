// @ts-check
// An executor the runtime does not implement: refused as invalid options (104), never run some other way.
export const options = { scenarios: { steady: { executor: "constant-vus", vus: 1, duration: "1s" } } };

export default function () {}
