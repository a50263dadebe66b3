// What a channel namespace does for every option it leaves out: today's behaviour, from before namespaces existed
// (the history's size and TTL come from RTGW_HISTORY_*). One table for the gateway's namespace tests and the
// operator → gateway config-file contract, so both hold the gateway to the same defaults.
export const TODAYS_NAMESPACE_OPTIONS = {
  recovery: true,
  presence: true,
  joinLeave: true,
  publish: "clients",
  subscribe: "token",
  proxySubscribe: false,
  proxyPublish: false,
} as const;
