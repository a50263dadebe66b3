// For the stream cores' table and property tests (stream/replay.ts, stream/sequence.ts): a broker message at an
// offset, built the same way for both so their traces read alike.
import type { BrokerMessage } from "../../src/broker/broker.js";

/** The message at `offset` of channel "c" in `epoch`; its data and time do not matter to the sequencing. */
export const message = (offset: number, epoch = "e1"): BrokerMessage => ({
  channel: "c",
  offset,
  epoch,
  data: "1",
  publishedAt: 0,
});
