// One e2e client process (forked by the harness, IPC): holds thousands of real client-SDK connections through the
// Service stand-in, each subscribed to one channel, and checks every message it is handed: offsets must arrive
// exactly once and in order from the subscription's start to the channel's last published offset.
// Parent → child: config, open, close, finish. Child → parent: a tick per second, then the result.
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { z } from "zod";
import { type Client, connect } from "../../client/src/index.js";
import { ServiceEndpoints, serviceWebSocket } from "../../dev-cluster/service.js";
import { sleep } from "../../test-support/wait.js";
import type { ClientTotals, EventCounts } from "./report.js";

const command = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("config"),
    feedUrl: z.string(),
    serviceUrl: z.string(),
    token: z.string(),
    channels: z.array(z.string()).min(1),
    /** Source addresses to spread connections over (each has its own ~28k ephemeral ports). */
    localAddresses: z.array(z.string()).default([]),
    /** Offset into the channel list, so processes spread their clients over all channels. */
    channelOffset: z.number().int(),
    /** The run's start (epoch ms): events are counted in the run's seconds by when they happened. */
    t0: z.number(),
  }),
  z.object({ type: z.literal("open"), count: z.number().int().min(0), perSecond: z.number().positive() }),
  z.object({ type: z.literal("close"), count: z.number().int().min(0), perSecond: z.number().positive() }),
  z.object({ type: z.literal("finish"), finalOffsets: z.record(z.string(), z.number()) }),
  /** E2E_CLIENT_CPU_PROF: profile one phase of the run (the rollout), not the whole process life. */
  z.object({ type: z.literal("profile-start") }),
  z.object({ type: z.literal("profile-stop"), file: z.string() }),
]);
type Command = z.infer<typeof command>;
type Config = Extract<Command, { type: "config" }>;

export interface ClientTick {
  type: "tick";
  at: number;
  open: number;
  connected: number;
  /** Welcomes after a client's first one, this second. */
  reconnects: number;
  /** Drain/shed notices (reconnect frames), this second. */
  moveNotices: number;
  messages: number;
  /**
   * Counts per run second by the moment each event happened (seconds since config.t0), for the seconds that ended
   * since the last tick: a tick delayed by a busy event loop must not fold two seconds into one.
   */
  seconds: SecondCounts[];
  /** Cumulative since the start, over every client: offsets skipped, duplicates, regressions. */
  gaps: number;
  duplicated: number;
  outOfOrder: number;
  /** The longest this process's event loop was held up since the last tick (ms): a starved client process. */
  loopDelayMaxMs: number;
  /** V8 heap in use (MB): a heap near its limit turns into back-to-back full GCs, i.e. multi-second stalls. */
  heapUsedMb: number;
}

export interface SecondCounts extends EventCounts {
  t: number;
}

/** A client process's totals as the run sums them, plus what only the process knows. */
export interface ClientResult extends ClientTotals {
  type: "result";
  closedEarly: number;
}

interface Tracked {
  client: Client;
  channel: string;
  /** The channel offset at subscribe time (ack). */
  start: number | undefined;
  first: number | undefined;
  last: number | undefined;
  received: number;
  gaps: number;
  dup: number;
  outOfOrder: number;
  welcomes: number;
  resyncs: number;
  connected: boolean;
  closed: boolean;
  failed: boolean;
}

const tracked: Tracked[] = [];
let config: Config | undefined;
let service: ServiceEndpoints | undefined;
let reconnects = 0;
let moveNotices = 0;
let messages = 0;
let totalReconnects = 0;
let opened = 0;
const bySecond = new Map<number, SecondCounts>();
let profiler: Session | undefined;

function count(kind: keyof EventCounts): void {
  const t = Math.floor((Date.now() - (config?.t0 ?? 0)) / 1000);
  let c = bySecond.get(t);
  if (!c) {
    c = { t, reconnects: 0, moveNotices: 0, messages: 0, failedConnects: 0 };
    bySecond.set(t, c);
  }
  c[kind]++;
}

function send(msg: ClientTick | ClientResult | { type: "ready" }): void {
  process.send?.(msg);
}

function openOne(cfg: Config, WebSocketClass: ReturnType<typeof serviceWebSocket>): void {
  const index = cfg.channelOffset + opened++;
  const channel = cfg.channels[index % cfg.channels.length] as string;
  const client = connect(cfg.serviceUrl, {
    token: cfg.token,
    WebSocket: WebSocketClass,
    pingIntervalMs: 0, // the gateway's own heartbeat keeps idle sockets honest; 60k app pings would be noise
    requestTimeoutMs: 30_000,
  });
  const t: Tracked = {
    client,
    channel,
    start: undefined,
    first: undefined,
    last: undefined,
    received: 0,
    gaps: 0,
    dup: 0,
    outOfOrder: 0,
    welcomes: 0,
    resyncs: 0,
    connected: false,
    closed: false,
    failed: false,
  };
  tracked.push(t);
  client.on("welcome", () => {
    t.welcomes++;
    if (t.welcomes > 1) {
      reconnects++;
      totalReconnects++;
      count("reconnects");
    }
  });
  client.on("state", (s) => {
    t.connected = s.state === "connected";
    if (s.state === "disconnected" && s.previous !== "connected") count("failedConnects");
  });
  client.on("reconnect", () => {
    moveNotices++;
    count("moveNotices");
  });
  client.on("resync", () => {
    t.resyncs++;
  });
  const sub = client.subscribe(channel, (_data, meta) => {
    messages++;
    count("messages");
    const o = meta.offset;
    if (t.last !== undefined && o <= t.last) {
      if (o === t.last) t.dup++;
      else t.outOfOrder++;
      return;
    }
    if (t.last !== undefined && o > t.last + 1) t.gaps += o - t.last - 1;
    if (t.first === undefined) t.first = o;
    t.last = o;
    t.received++;
  });
  sub.ready.then(
    (r) => {
      t.start = r.offset;
    },
    () => {
      t.failed = true;
    },
  );
}

/** Run `total` actions at `perSecond`, in 100 ms slices. */
async function paced(total: number, perSecond: number, action: () => void): Promise<void> {
  const perSlice = Math.max(1, Math.round(perSecond / 10));
  for (let done = 0; done < total; ) {
    const n = Math.min(perSlice, total - done);
    for (let i = 0; i < n; i++) action();
    done += n;
    if (done < total) await sleep(100);
  }
}

function result(finalOffsets: Record<string, number>): ClientResult {
  let received = 0;
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let resyncs = 0;
  let failed = 0;
  let closedEarly = 0;
  for (const t of tracked) {
    received += t.received;
    duplicated += t.dup;
    outOfOrder += t.outOfOrder;
    resyncs += t.resyncs;
    if (t.failed || t.start === undefined) {
      failed++;
      continue;
    }
    // Everything after the subscription's start, up to the last message seen (closed early) or the channel's
    // final offset (still connected at the end), must have arrived.
    const first = t.first;
    if (first !== undefined && first > t.start + 1) lost += first - t.start - 1;
    lost += t.gaps;
    if (t.closed) closedEarly++;
    else {
      const final = finalOffsets[t.channel] ?? 0;
      const last = t.last ?? t.start;
      if (final > last) lost += final - last;
    }
  }
  return {
    type: "result",
    clients: tracked.length,
    closedEarly,
    received,
    lost,
    duplicated,
    outOfOrder,
    resyncs,
    failedSubscriptions: failed,
    reconnects: totalReconnects,
  };
}

async function handle(cmd: Command): Promise<void> {
  switch (cmd.type) {
    case "config": {
      config = cmd;
      service = new ServiceEndpoints(cmd.feedUrl);
      await service.start();
      send({ type: "ready" });
      return;
    }
    case "open": {
      const cfg = config;
      const svc = service;
      if (!cfg || !svc) throw new Error("open before config");
      const WebSocketClass = serviceWebSocket(svc, cfg.localAddresses);
      await paced(cmd.count, cmd.perSecond, () => openOne(cfg, WebSocketClass));
      return;
    }
    case "close": {
      // Close random open clients: users leave wherever they happen to be connected.
      const open = tracked.filter((t) => !t.closed);
      for (let i = open.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [open[i], open[j]] = [open[j] as Tracked, open[i] as Tracked];
      }
      const victims = open.slice(0, cmd.count);
      let k = 0;
      await paced(victims.length, cmd.perSecond, () => {
        const t = victims[k++] as Tracked;
        t.closed = true;
        t.client.close();
      });
      return;
    }
    case "profile-start": {
      profiler = new Session();
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.start");
      return;
    }
    case "profile-stop": {
      if (!profiler) return;
      const { profile } = await profiler.post("Profiler.stop");
      profiler.disconnect();
      profiler = undefined;
      await writeFile(cmd.file, JSON.stringify(profile));
      return;
    }
    case "finish": {
      send(result(cmd.finalOffsets));
      for (const t of tracked) if (!t.closed) t.client.close();
      service?.stop();
      clearInterval(ticker);
      setTimeout(() => process.exit(0), 500);
      return;
    }
  }
}

// Evidence for the rates' burstiness: a client process starved of CPU (or in a long GC) handles a second's frames late.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

const ticker = setInterval(() => {
  let open = 0;
  let connected = 0;
  let gaps = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  for (const t of tracked) {
    gaps += t.gaps;
    duplicated += t.dup;
    outOfOrder += t.outOfOrder;
    if (t.closed) continue;
    open++;
    if (t.connected) connected++;
  }
  const now = Math.floor((Date.now() - (config?.t0 ?? 0)) / 1000);
  const seconds = [...bySecond.values()].filter((c) => c.t < now);
  for (const c of seconds) bySecond.delete(c.t);
  send({
    type: "tick",
    seconds,
    at: Date.now(),
    open,
    connected,
    reconnects,
    moveNotices,
    messages,
    gaps,
    duplicated,
    outOfOrder,
    loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  });
  loopDelay.reset();
  reconnects = 0;
  moveNotices = 0;
  messages = 0;
}, 1000);

process.on("message", (raw) => {
  const parsed = command.safeParse(raw);
  if (!parsed.success) {
    console.error("e2e clients: bad command", parsed.error.message);
    return;
  }
  void handle(parsed.data).catch((err) => {
    console.error("e2e clients:", err);
    process.exit(1);
  });
});
// Orphaned (the harness died): leave rather than hold sockets forever.
process.on("disconnect", () => process.exit(0));
