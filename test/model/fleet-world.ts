// The real system the model test drives, and what it did to it: gateway processes in slots on a RedisPair, SDK
// clients each behind its own TCP "service" (routes to the client's preferred gateway, can cut or stall the
// connection), and a per-run log of every publish (era, offset) and every application handler's observations.
// The fleet lives for the whole file; each run gets fresh clients and channel names and ends with every fault
// repaired, a marker published on every channel, and the verdict of delivery-check.ts.
import { WebSocket } from "ws";
import { type Client, connect, type JsonValue, RtgwError } from "../../client/src/index.js";
import { metric } from "../../gateway/test/client.js";
import { httpPublish, type Service, startGateways, startService } from "../../gateway/test/redis/fleet.js";
import type { GatewayProcess } from "../../test-support/gateway.js";
import { sleep, until } from "../../test-support/wait.js";
import {
  checkHandler,
  EpochEras,
  type HandlerRecord,
  markerState,
  type PublishRecord,
  type Violation,
} from "./delivery-check.js";
import type { RedisPair } from "./redis-pair.js";
import {
  type ObservedSubscription,
  observe,
  payload,
  publishThroughClient,
  resumePoint,
} from "./sdk-observer.js";

export type GatewayState = "up" | "draining" | "down";

const GATEWAY_ENV = {
  RTGW_MAX_BACKPRESSURE_BYTES: "65536",
  RTGW_DRAIN_SECONDS: "2",
  RTGW_IDLE_TIMEOUT_SECONDS: "8",
};

interface Slot {
  gw: GatewayProcess | undefined;
  state: GatewayState;
  starts: number;
}

/** Gateway processes in numbered slots on one RedisPair, for the whole test file. */
export class Fleet {
  readonly slots: Slot[];
  private constructor(
    readonly redis: RedisPair,
    gateways: GatewayProcess[],
  ) {
    this.slots = gateways.map((gw) => ({ gw, state: "up", starts: 1 }));
  }

  static async start(redis: RedisPair, count: number): Promise<Fleet> {
    const gateways = await Promise.all(Array.from({ length: count }, (_, i) => Fleet.#launch(redis, i, 0)));
    return new Fleet(redis, gateways);
  }

  static async #launch(redis: RedisPair, slot: number, start: number): Promise<GatewayProcess> {
    const [gw] = await startGateways(redis.url, 1, {
      ...GATEWAY_ENV,
      RTGW_NODE_ID: `model-${slot}-${start}-${process.pid}`,
    });
    return gw as GatewayProcess;
  }

  up(): number[] {
    return this.slots.flatMap((s, i) => (s.state === "up" ? [i] : []));
  }

  gateway(slot: number): GatewayProcess | undefined {
    const s = this.slots[slot];
    return s?.state === "up" ? s.gw : undefined;
  }

  slotOfNode(node: string | undefined): number | undefined {
    const i = this.slots.findIndex(
      (s, n) => s.state === "up" && node === `model-${n}-${s.starts - 1}-${process.pid}`,
    );
    return i < 0 ? undefined : i;
  }

  async kill(slot: number): Promise<void> {
    const s = this.slots[slot];
    if (!s?.gw || s.state !== "up") return;
    s.state = "down";
    s.gw.kill("SIGKILL");
    await s.gw.exited;
  }

  /** SIGTERM: the gateway drains (reconnect frames, closes spread over RTGW_DRAIN_SECONDS) and exits. */
  drain(slot: number): void {
    const s = this.slots[slot];
    if (!s?.gw || s.state !== "up") return;
    s.state = "draining";
    s.gw.kill("SIGTERM");
  }

  async start(slot: number): Promise<void> {
    const s = this.slots[slot];
    if (!s || s.state === "up") return;
    if (s.gw) {
      const timer = setTimeout(() => s.gw?.kill("SIGKILL"), 10_000);
      await s.gw.exited;
      clearTimeout(timer);
    }
    s.gw = await Fleet.#launch(this.redis, slot, s.starts);
    s.starts += 1;
    s.state = "up";
  }

  /** Every gateway up and ready (its broker healthy). */
  async settle(): Promise<void> {
    for (let i = 0; i < this.slots.length; i++) await this.start(i);
    await until(
      "every gateway ready",
      async () => (await Promise.all(this.slots.map((s) => ready(s.gw)))).every(Boolean),
      30_000,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.gw?.stop(2000)));
  }
}

async function ready(gw: GatewayProcess | undefined): Promise<boolean> {
  if (!gw) return false;
  try {
    return (await fetch(`${gw.url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

interface RunClient {
  client: Client;
  service: Service;
  /** The slot this client's connections go to while it is up. */
  preferred: number;
}

interface Handler extends HandlerRecord {
  client: number;
  channelIndex: number;
  sub: ObservedSubscription;
  active: boolean;
}

/** Timeouts of the SDK clients: short, so a run sees reconnects, gap skips and request timeouts. */
const CLIENT_OPTIONS = {
  backoff: { baseMs: 50, maxMs: 500 },
  requestTimeoutMs: 4000,
  gapTimeoutMs: 1500,
  stableAfterMs: 1000,
  pingIntervalMs: 0, // the stalled reader must be closed by the gateway, not by the client's ping timeout
};

/** One model run: its clients, channels and log. */
export class Run {
  /** Redis faults that renew every channel's epoch so far (restart empty, failover). */
  era = 0;
  /** Per channel: its keys deleted (as if expired) so far, which renews that channel's epoch only. */
  readonly #expiries: number[];
  /** False while a fault's effects are still arriving: acks seen then are not used to place epochs. */
  settled = true;
  readonly published = new Map<number, PublishRecord>();
  readonly eras = new EpochEras();
  readonly handlers: Handler[] = [];
  readonly anomalies: Violation[] = [];
  readonly channels: string[];
  readonly clients: RunClient[] = [];
  /** How often each operation really happened (e.g. a stall that ended in a slow-consumer close). */
  readonly counts = new Map<string, number>();
  #n = 0;

  private constructor(
    readonly fleet: Fleet,
    readonly name: string,
    channels: number,
  ) {
    this.channels = Array.from({ length: channels }, (_, i) => `${name}-ch${i}`);
    this.#expiries = this.channels.map(() => 0);
  }

  static async start(
    fleet: Fleet,
    name: string,
    shape: { clients: number; channels: number; subscriptions: Array<[client: number, channel: number]> },
  ): Promise<Run> {
    const run = new Run(fleet, name, shape.channels);
    for (let i = 0; i < shape.clients; i++) {
      const preferred = i % fleet.slots.length;
      const service = await startService(() => run.#route(i));
      const client = connect(service.url, { WebSocket, ...CLIENT_OPTIONS });
      client.on("error", () => undefined);
      run.clients.push({ client, service, preferred });
    }
    await Promise.all(shape.subscriptions.map(([c, ch]) => run.subscribe(c, ch, "none", true)));
    return run;
  }

  /** The client's preferred gateway while it is up, else another one that is up, else none (refused). */
  #route(i: number): GatewayProcess | undefined {
    const preferred = this.clients[i]?.preferred ?? 0;
    return this.fleet.gateway(preferred) ?? this.fleet.up().map((s) => this.fleet.gateway(s))[0];
  }

  /** A channel's era: every fault that renewed its epoch so far (faults for all channels, its own expiries). */
  eraOf(channel: string): number {
    return this.era + (this.#expiries[this.channels.indexOf(channel)] ?? 0);
  }

  /** Delete a channel's offset, epoch and history keys on the master, as their TTL would. */
  async expire(channelIndex: number): Promise<void> {
    const channel = this.channels[channelIndex] as string;
    this.settled = false;
    try {
      await this.fleet.redis.expire(channel);
      this.#expiries[channelIndex] = (this.#expiries[channelIndex] ?? 0) + 1;
    } finally {
      this.settled = true;
    }
    this.count("channel expired");
  }

  count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  #record(
    channel: string,
    outcome: PublishRecord["outcome"],
    offset?: number,
    epoch?: string,
  ): PublishRecord {
    const record: PublishRecord = { n: ++this.#n, channel, era: this.eraOf(channel), outcome };
    if (offset !== undefined) record.offset = offset;
    this.#noteEpoch(channel, epoch);
    this.published.set(record.n, record);
    return record;
  }

  #noteEpoch(channel: string, epoch: string | undefined): void {
    if (!this.settled) return;
    const conflict = this.eras.note(channel, epoch, this.eraOf(channel));
    if (conflict) this.anomalies.push({ handler: "-", rule: "epoch_reused", detail: conflict });
  }

  async httpPublish(slot: number, channelIndex: number, padBytes = 0): Promise<void> {
    const channel = this.channels[channelIndex] as string;
    const gw = this.fleet.gateway(slot);
    if (!gw) return;
    const record = this.#record(channel, "unknown");
    try {
      const res = await httpPublish(gw.url, channel, payload(record.n, padBytes));
      if (res.status === 200 && res.offset !== undefined) {
        record.outcome = "acked";
        record.offset = res.offset;
        this.#noteEpoch(channel, res.epoch);
      } else record.outcome = "refused"; // 4xx, or 503 unavailable: not published
    } catch {
      // no answer: it may have landed
    }
  }

  async clientPublish(clientIndex: number, channelIndex: number): Promise<void> {
    const channel = this.channels[channelIndex] as string;
    const c = this.clients[clientIndex] as RunClient;
    const record = this.#record(channel, "unknown");
    try {
      const res = await publishThroughClient(c.client, channel, payload(record.n));
      record.outcome = "acked";
      record.offset = res.offset;
      this.#noteEpoch(channel, res.epoch);
    } catch (error) {
      const code = error instanceof RtgwError ? error.code : "";
      if (code !== "timeout" && code !== "disconnected") record.outcome = "refused";
    }
  }

  subscribed(clientIndex: number, channelIndex: number): Handler | undefined {
    return this.handlers.find((h) => h.active && h.client === clientIndex && h.channelIndex === channelIndex);
  }

  /** since: "none" a fresh subscription; "resume" where this client's last handler of the channel stopped;
   * "behind" a few offsets before the newest acked one (with its epoch, or without one). */
  async subscribe(
    clientIndex: number,
    channelIndex: number,
    since: "none" | "resume" | "behind" | "behind-no-epoch",
    wait: boolean,
  ): Promise<void> {
    if (this.subscribed(clientIndex, channelIndex)) return;
    const channel = this.channels[channelIndex] as string;
    const c = this.clients[clientIndex] as RunClient;
    const resume = this.#resumeFor(clientIndex, channelIndex, since);
    let sub: ObservedSubscription;
    try {
      sub = observe(c.client, channel, resume);
    } catch {
      return; // the client is closed
    }
    const handler: Handler = {
      id: `c${clientIndex} ch${channelIndex} #${this.handlers.length}`,
      client: clientIndex,
      channelIndex,
      channel,
      sub,
      active: true,
      observations: sub.observations,
    };
    if (resume.since !== undefined) handler.since = resume.since;
    if (resume.epoch !== undefined) handler.sinceEpoch = resume.epoch;
    this.handlers.push(handler);
    // The promise starts when `ready` settles, whenever that is; the ack places its epoch only if no fault
    // happened since the subscribe was made.
    const era = this.eraOf(channel);
    const settled = this.settled;
    const acked = sub.ready.then(
      (ack) => {
        const inTime = settled && this.settled && era === this.eraOf(channel);
        handler.ready = { ...ack, ...(inTime ? { era } : {}) };
        if (inTime) this.#noteEpoch(channel, ack.epoch);
      },
      () => undefined, // refused: no promise was made to this handler
    );
    if (wait) await Promise.race([acked, sleep(3000)]);
  }

  #resumeFor(clientIndex: number, channelIndex: number, since: string): { since?: number; epoch?: string } {
    if (since === "resume") {
      const last = this.handlers.findLast((h) => h.client === clientIndex && h.channelIndex === channelIndex);
      return (last && resumePoint(last.observations)) ?? {};
    }
    if (since === "none") return {};
    const channel = this.channels[channelIndex];
    const newest = [...this.published.values()].findLast(
      (p) => p.channel === channel && p.era === this.eraOf(channel) && p.offset !== undefined,
    );
    if (!newest?.offset) return {};
    const offset = Math.max(0, newest.offset - 3);
    const epoch = this.#epochOf(channelIndex);
    return since === "behind" && epoch !== undefined ? { since: offset, epoch } : { since: offset };
  }

  /** The current era's epoch string of a channel, if the model has seen it. */
  #epochOf(channelIndex: number): string | undefined {
    for (const h of [...this.handlers].reverse()) {
      if (h.channelIndex === channelIndex && h.ready?.era === this.eraOf(h.channel)) return h.ready.epoch;
    }
    return undefined;
  }

  unsubscribe(clientIndex: number, channelIndex: number): void {
    const h = this.subscribed(clientIndex, channelIndex);
    if (!h) return;
    h.active = false;
    h.sub.unsubscribe();
  }

  /** Every client's connection cut at once (they come back to their preferred gateways): a resubscribe storm. */
  reconnectAll(): void {
    for (const c of this.clients) c.service.cut();
    this.count("reconnect all");
  }

  /** Move the client to another gateway: route there, cut its connection; the SDK reconnects and resumes. */
  reconnect(clientIndex: number, slot: number): void {
    const c = this.clients[clientIndex] as RunClient;
    c.preferred = slot;
    c.service.cut();
    this.count("reconnect");
  }

  /**
   * A stuck reader: the client's service stops reading from its gateway while ballast (30 KB messages on a
   * channel only this client has) and a few model messages are published, until the gateway closes the
   * connection as a slow consumer (or a bound is reached); then it reads again and the SDK reconnects.
   */
  async stall(clientIndex: number): Promise<void> {
    const c = this.clients[clientIndex] as RunClient;
    const slot = this.fleet.slotOfNode(c.client.node);
    const gw = slot === undefined ? undefined : this.fleet.gateway(slot);
    if (slot === undefined || !gw) {
      this.count("stall skipped (not connected)");
      return;
    }
    const ballast = `${this.name}-ballast${clientIndex}`;
    const sub = c.client.subscribe(ballast, () => undefined);
    await Promise.race([sub.ready.catch(() => undefined), sleep(3000)]);
    const before = await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total");
    const tracked = this.handlers
      .filter((h) => h.active && h.client === clientIndex)
      .map((h) => h.channelIndex);
    c.service.stall();
    const deadline = Date.now() + 15_000;
    try {
      for (let round = 0; round < 60 && Date.now() < deadline; round++) {
        if ((await metric(gw.metricsUrl, "rtgw_slow_consumer_disconnects_total")) > before) {
          this.count("stall closed as slow consumer");
          return;
        }
        await Promise.all(
          Array.from({ length: 8 }, () =>
            httpPublish(gw.url, ballast, payload(-1, 30_000)).catch(() => undefined),
          ),
        );
        const channel = tracked[round % Math.max(1, tracked.length)];
        if (round % 4 === 0 && channel !== undefined) await this.httpPublish(slot, channel);
      }
      this.count("stall not closed within its bound");
    } finally {
      c.service.resume();
      sub.unsubscribe();
    }
  }

  /** End of run: repair every fault, publish a marker on each channel, wait for it, judge every handler. */
  async verdict(markerTimeoutMs: number): Promise<Violation[]> {
    for (const c of this.clients) c.service.resume();
    this.settled = false;
    if (await this.fleet.redis.repair()) this.era += 1;
    await this.fleet.settle();
    this.settled = true;
    // A marker on each channel for every handler still subscribed; one skipped by an announced gap (a
    // resubscribe acked after it) gets another, up to three rounds.
    const ended = (h: Handler) => h.observations.some((o) => o.kind === "ended");
    let waiting = this.handlers.filter((h) => h.active && h.ready && !ended(h));
    for (let round = 0; round < 3 && waiting.length > 0; round++) {
      for (let i = 0; i < this.channels.length; i++) {
        const here = waiting.filter((h) => h.channelIndex === i);
        if (here.length > 0) for (const h of here) h.marker = await this.#marker(i);
      }
      const settledOn = (h: Handler) => ended(h) || markerState(h, this.published, this.eras) !== "missing";
      await until("every handler got its marker", () => waiting.every(settledOn), markerTimeoutMs).catch(
        () => undefined,
      );
      waiting = waiting.filter((h) => !ended(h) && markerState(h, this.published, this.eras) === "covered");
    }
    return [...this.anomalies, ...this.handlers.flatMap((h) => checkHandler(h, this.published, this.eras))];
  }

  /** Publish a marker on a channel over HTTP, retried while refused; its n. */
  async #marker(channelIndex: number): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (attempt > 0) await sleep(250);
      await this.httpPublish(attempt % this.fleet.slots.length, channelIndex);
      const record = this.published.get(this.#n);
      if (record?.outcome === "acked") return record.n;
    }
    throw new Error(`the final marker on ${this.channels[channelIndex]} was refused 20 times`);
  }

  /** A handler's observations, compact: `5` a message at offset 5, `gap@E1:0` an announced gap, `ended(code)`. */
  trace(handlerId: string): string {
    const h = this.handlers.find((x) => x.id === handlerId);
    if (!h) return "";
    const era = (epoch: string | undefined) => {
      const e = this.eras.eraOf(h.channel, epoch);
      return e === undefined ? "E?" : `E${e}`;
    };
    const items = h.observations.map((o) => {
      if (o.kind === "message") {
        const p = this.published.get(o.n);
        return `${p ? `E${p.era}` : "E?"}:${o.offset}`;
      }
      return o.kind === "gap" ? `gap(${o.reason})@${era(o.epoch)}:${o.offset}` : `ended(${o.code})`;
    });
    const ready = h.ready ? `ready@${era(h.ready.epoch)}:${h.ready.offset}` : "not ready";
    const since = h.since === undefined ? "" : ` since ${h.since}@${era(h.sinceEpoch)}`;
    return `${ready}${since}: ${items.length > 40 ? `… ${items.slice(-40).join(" ")}` : items.join(" ")}`;
  }

  /** What the run did, for the summary line. */
  tally(): { published: number; delivered: number; gaps: number; handlers: number } {
    let delivered = 0;
    let gaps = 0;
    for (const h of this.handlers) {
      for (const o of h.observations) {
        if (o.kind === "message") delivered++;
        else if (o.kind === "gap") gaps++;
      }
    }
    const published = [...this.published.values()].filter((p) => p.outcome === "acked").length;
    return { published, delivered, gaps, handlers: this.handlers.length };
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.client.close();
    await Promise.all(this.clients.map((c) => c.service.close()));
  }
}

export type { JsonValue };
