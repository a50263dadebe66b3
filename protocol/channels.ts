// Channel names: what a channel may be called. The rule lives here; the zod schema built from it (`channelName`)
// sits with the client frames, inside pure(), so the browser bundle keeps only this small check.

export const MAX_CHANNEL_LENGTH = 200;
/** Letters, digits and `_ - : . @ / =`; `$` starts names the gateway reserves for itself; `*` only in patterns. */
export const CHANNEL_RE = /^[A-Za-z0-9_\-:.@/=]+$/;

export function isValidChannel(name: string): boolean {
  return name.length > 0 && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_RE.test(name);
}
