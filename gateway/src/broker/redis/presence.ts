// Presence across pods: each node writes its own members (with an expiry it keeps pushing forward), so a crashed
// node's members expire; after a reconnect every member is written again, since Redis may have lost them. A channel
// whose namespace turned joinLeave off gets no join/leave published at all (nobody would hear it: the hub drops it).
import { z } from "zod";
import { presenceMember } from "../../../../protocol/index.js";
import type { JoinLeaveOptions, PresenceEntry } from "../broker.js";
import { type Connections, unavailable } from "./connections.js";
import { channelKeys, presenceMembersKey, pubsubChannel } from "./keys.js";
import { encodePresencePayload } from "./payload.js";

const presenceListReply = z.array(z.string());

export interface PresenceOptions extends JoinLeaveOptions {
  nodeId: string;
  ttlMs: number;
}

export class Presence {
  /** Presence members this node holds, re-announced on every refresh so a crashed node's members expire. */
  private readonly local = new Map<string, Map<string, PresenceEntry>>();
  private lost = false;

  constructor(
    private readonly connections: Connections,
    private readonly o: PresenceOptions,
    private readonly log: { debug(obj: object, msg: string): void },
  ) {}

  private announced(channel: string): boolean {
    return this.o.joinLeaveOf?.(channel) ?? true;
  }

  private get sharded(): string {
    return this.connections.cluster ? "1" : "0";
  }

  /** Redis may have lost this node's presence while we were away: re-add every member on the next refresh. */
  markLost(): void {
    this.lost = true;
  }

  async join(channel: string, member: PresenceEntry): Promise<void> {
    let local = this.local.get(channel);
    if (!local) {
      local = new Map();
      this.local.set(channel, local);
    }
    local.set(member.connectionId, member);
    await this.write(channel, [member], this.announced(channel));
  }

  async leave(channel: string, member: PresenceEntry): Promise<void> {
    const local = this.local.get(channel);
    local?.delete(member.connectionId);
    if (local?.size === 0) this.local.delete(channel);
    const command = this.connections.readyCommand();
    try {
      await command.rtgwPresenceLeave(
        presenceMembersKey(channel, this.o.nodeId),
        member.connectionId,
        pubsubChannel(channel),
        this.sharded,
        this.announced(channel) ? encodePresencePayload("leave", member) : "",
      );
    } catch (error) {
      throw unavailable(error);
    }
  }

  async list(channel: string): Promise<PresenceEntry[]> {
    const command = this.connections.readyCommand();
    let reply: unknown;
    try {
      reply = await command.rtgwPresenceList(
        channelKeys(channel).presenceNodes,
        Date.now(),
        presenceMembersKey(channel, ""),
      );
    } catch (error) {
      throw unavailable(error);
    }
    const members: PresenceEntry[] = [];
    for (const text of presenceListReply.parse(reply)) {
      try {
        const parsed = presenceMember.safeParse(JSON.parse(text));
        if (parsed.success) members.push(parsed.data);
      } catch {
        // A malformed entry is skipped: presence is advisory.
      }
    }
    return members;
  }

  /** Add members (announcing them when `announce`) and push this node's expiry for the channel. */
  private async write(channel: string, members: PresenceEntry[], announce: boolean): Promise<void> {
    const command = this.connections.readyCommand();
    const args: (string | number)[] = [
      channelKeys(channel).presenceNodes,
      presenceMembersKey(channel, this.o.nodeId),
      this.o.nodeId,
      Date.now() + this.o.ttlMs,
      this.o.ttlMs,
      pubsubChannel(channel),
      this.sharded,
    ];
    for (const member of members) {
      args.push(
        member.connectionId,
        JSON.stringify(member),
        announce ? encodePresencePayload("join", member) : "",
      );
    }
    try {
      await command.rtgwPresenceJoin(...args);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Keep this node's presence alive; after a reconnect, write every member again (Redis may have lost them). */
  async refresh(closed: boolean): Promise<void> {
    if (closed || !this.connections.commandReady() || this.local.size === 0) return;
    const full = this.lost;
    this.lost = false;
    try {
      await Promise.all(
        [...this.local].map(([channel, members]) =>
          this.write(channel, full ? [...members.values()] : [], false),
        ),
      );
    } catch (error) {
      if (full) this.lost = true;
      this.log.debug({ err: String(error) }, "presence refresh failed");
    }
  }
}
