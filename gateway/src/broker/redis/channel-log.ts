// A channel's log in Redis: append (the publish script: offset, epoch, capped history, fan-out in one atomic
// step) and read (the history script: position and the messages after an offset). Both run on the channel's
// script target, stamped with that server's id (see server-id.ts and readEpoch in scripts.ts).
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { historyComplete } from "../../stream/sequence.js";
import type { BrokerMessage, HistoryLimits, HistoryOptions, HistoryResult, Position } from "../broker.js";
import type { Connections } from "./connections.js";
import { channelKeys, pubsubChannel } from "./keys.js";
import type { Slots } from "./shards.js";

const publishReply = z.tuple([z.number().int(), z.string()]);
const historyReply = z.tuple([
  z.number().int(),
  z.string(),
  z.array(z.tuple([z.string(), z.array(z.string())])),
]);

// A candidate epoch (taken only when a channel starts a new one) must never repeat; it need not be secret. A random
// per-process prefix and a counter give that for ~0.1 µs, where randomBytes(8) on every publish and history read
// cost ~3 µs of this process's CPU (make bench, publish row).
const EPOCH_PREFIX = randomBytes(8).toString("hex");
let epochsMade = 0;
function newEpoch(): string {
  epochsMade += 1;
  return `${EPOCH_PREFIX}${epochsMade.toString(36)}`;
}

export class ChannelLog {
  /** Each channel's size and TTL (its namespace's): the publish script trims to them, both scripts set the TTL. */
  private readonly limitsOf: (channel: string) => HistoryLimits;

  constructor(
    private readonly connections: Connections,
    private readonly slots: Slots,
    o: HistoryOptions,
  ) {
    this.limitsOf = o.historyOf ?? (() => o);
  }

  async append(channel: string, data: string): Promise<Position> {
    const keys = channelKeys(channel);
    const target = this.slots.scriptTarget(keys.epoch);
    const limits = this.limitsOf(channel);
    let reply: unknown;
    try {
      reply = await target.client.rtgwPublish(
        keys.offset,
        keys.epoch,
        keys.history,
        keys.adopted,
        pubsubChannel(channel),
        data,
        Date.now(),
        `${target.id}-${newEpoch()}`,
        limits.historySize,
        limits.historyTtlSeconds,
        this.connections.cluster ? "1" : "0",
        target.id,
        target.adopt,
      );
    } catch (error) {
      throw this.connections.scriptFailed(error);
    }
    const [offset, epoch] = publishReply.parse(reply);
    return { offset, epoch };
  }

  /** History after `since` (exclusive), checked against the client's `epoch`; `positionOnly`: no messages. */
  async read(
    channel: string,
    since: number,
    epoch: string | undefined,
    positionOnly: boolean,
  ): Promise<HistoryResult> {
    const keys = channelKeys(channel);
    const target = this.slots.scriptTarget(keys.epoch);
    let reply: unknown;
    try {
      reply = await target.client.rtgwHistory(
        keys.offset,
        keys.epoch,
        keys.history,
        keys.adopted,
        since,
        positionOnly ? "0" : "1",
        `${target.id}-${newEpoch()}`,
        this.limitsOf(channel).historyTtlSeconds,
        target.id,
        target.adopt,
      );
    } catch (error) {
      throw this.connections.scriptFailed(error);
    }
    const [offset, currentEpoch, entries] = historyReply.parse(reply);
    const messages: BrokerMessage[] = [];
    for (const [id, fields] of entries) {
      let data = "null";
      let publishedAt = 0;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === "d") data = fields[i + 1] as string;
        else if (fields[i] === "t") publishedAt = Number(fields[i + 1]);
      }
      messages.push({ channel, offset: Number.parseInt(id, 10), epoch: currentEpoch, data, publishedAt });
    }
    const position = { offset, epoch: currentEpoch };
    const complete = positionOnly || historyComplete(since, epoch, position, messages);
    return { offset, epoch: currentEpoch, messages, complete };
  }
}
