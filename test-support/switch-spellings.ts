// How an RTGW_* switch may be spelled and what each spelling means: one table for the gateway's and the
// operator's settings tests, since both parse their switches the same way.
export const SWITCH_SPELLINGS = [
  ["true", true],
  ["1", true],
  ["false", false],
  ["0", false],
] as const;
