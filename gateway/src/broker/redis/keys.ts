// Where a channel lives in Redis. Every key and the pub/sub channel of one gateway channel share the hash tag
// `{channel}`, so in Redis Cluster they sit in one slot: the publish script may touch them all atomically and
// SPUBLISH lands on the shard that owns the keys. Channel names never contain braces (protocol.ts forbids them).

const PREFIX = "rtgw";

export interface ChannelKeys {
  /** INCR counter: the last offset assigned. */
  offset: string;
  /** Id of the current offset sequence, `<server stamp>-<random>`; recreated when the keys are gone or the
   * server term that holds them changed (scripts.ts). */
  epoch: string;
  /** Set only after a slot migration: the stamp of the server term that adopted the epoch. */
  adopted: string;
  /** Stream of the last N messages, entry id `<offset>-0`, fields d (data) and t (publishedAt). */
  history: string;
  /** Sorted set: node id → expiry (ms) of that node's presence hash. */
  presenceNodes: string;
}

export function channelKeys(channel: string): ChannelKeys {
  const tag = `${PREFIX}:{${channel}}`;
  return {
    offset: `${tag}:o`,
    epoch: `${tag}:e`,
    adopted: `${tag}:a`,
    history: `${tag}:h`,
    presenceNodes: `${tag}:pn`,
  };
}

/** Hash of one node's presence members on a channel: connectionId → member JSON. Same slot as the channel. */
export function presenceMembersKey(channel: string, node: string): string {
  return `${PREFIX}:{${channel}}:p:${node}`;
}

/** The pub/sub channel carrying a channel's messages and presence events. */
export function pubsubChannel(channel: string): string {
  return `${PREFIX}:{${channel}}`;
}

const PUBSUB_PREFIX = `${PREFIX}:{`;

/** Inverse of pubsubChannel; undefined for names that are not ours. */
export function channelOfPubsub(name: string): string | undefined {
  if (!name.startsWith(PUBSUB_PREFIX) || !name.endsWith("}")) return undefined;
  return name.slice(PUBSUB_PREFIX.length, -1);
}

/** Each node's canary channel (its own slot; the hash tag keeps the node id readable in MONITOR). */
export function canaryChannel(node: string): string {
  return `${PREFIX}:canary:{${node}}`;
}

/** The fleet's control channel (plain PUBLISH: in Redis Cluster it reaches every node's subscribers). */
export const CONTROL_CHANNEL = `${PREFIX}:control`;

/** Sorted set of the node registry: node id → expiry (ms) of its heartbeat. */
export const NODES_KEY = `${PREFIX}:nodes`;

/** One node's heartbeat (its NodeReport as JSON), expiring with it. */
export function nodeKey(node: string): string {
  return `${PREFIX}:node:{${node}}`;
}
