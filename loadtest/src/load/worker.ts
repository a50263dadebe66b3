// One load worker process: opens its share of connections on a ramp from its own loopback source addresses,
// subscribes each to one channel, tracks offsets (loss, duplicates), latency and reconnects, and reports to
// the coordinator over IPC. It stops on `finish`, or by itself at its deadline.
import { build, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import { backoffDelay } from "../../../client/src/backoff.js";
import { type LeanHandlers, LeanSocket, type LeanTarget, parseWsUrl } from "../ws/lean-socket.js";
import { type Dialect, dialectNamed } from "./dialect.js";
import { type ToWorker, toWorker, type WorkerConfig, type WorkerResult, type WorkerTick } from "./ipc.js";
import { scanMessages } from "./message-scan.js";
import { LOAD_BACKOFF, observeOffset, rampTarget, tailLoss } from "./plan.js";

const MAX_RECONNECT_ATTEMPTS = 12;
const MAX_RECONNECT_TIMES = 100_000;
const MAX_ERROR_SAMPLES = 10;
const SUBSCRIBE_ID = 1;
/** Latencies are recorded in microseconds, up to two minutes. */
const HIGHEST_LATENCY_US = 120_000_000;

/** One connection's state; it outlives its sockets across reconnects. */
class Conn {
  socket: LeanSocket<Conn> | null = null;
  /** Last offset seen on the channel; -1 until the subscribe ack or the first message. */
  last = -1;
  epoch: string | undefined = undefined;
  attempts = 0;
  /** Sockets this connection has had (1 + reconnects), and the `since` its current one subscribed with. */
  generation = 0;
  since: number | undefined = undefined;
  everOpened = false;
  reconnectAfterMs: number | undefined = undefined;
  /** Which target to dial; a reconnect moves to the next one (a draining gateway refuses new upgrades). */
  target: number;
  constructor(
    readonly index: number,
    readonly channel: string,
  ) {
    this.target = index;
  }
}

function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_LATENCY_US,
    numberOfSignificantValueDigits: 3,
  });
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

class LoadWorker {
  private readonly dialect: Dialect;
  private readonly targets: LeanTarget[];
  private readonly conns: Conn[] = [];
  private readonly startedAt = Date.now();
  private started = 0;
  private opened = 0;
  private held = 0;
  private pending = 0;
  private subscribed = 0;
  private connectErrors = 0;
  private delivered = 0;
  private lost = 0;
  private duplicated = 0;
  private reconnects = 0;
  private finishing = false;
  private readonly latency = newHistogram();
  private readonly intervalLatency = newHistogram();
  private readonly reconnectTimes: number[] = [];
  private readonly closeCodes: Record<string, number> = {};
  private readonly errorSamples: string[] = [];
  private rampTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly handlers: LeanHandlers<Conn>;

  constructor(private readonly config: WorkerConfig) {
    this.dialect = dialectNamed(config.dialect);
    this.targets = config.targets.map((url) => {
      const target = parseWsUrl(url);
      return { ...target, path: this.dialect.path(target.path, config.token) };
    });
    for (let i = 0; i < config.connections; i++) {
      const index = config.first + i;
      this.conns.push(new Conn(index, config.channels[index % config.channels.length] as string));
    }
    this.handlers = {
      open: () => this.onOpen(),
      message: (socket, payload) => this.onMessage(socket, payload),
      close: (socket, code, reason, wasOpen) => this.onClose(socket, code, reason, wasOpen),
    };
    if (config.mode === "count") {
      const dialect = this.dialect;
      this.handlers.count = (_socket, buffer, start, end) => {
        const count = dialect.countMessages(buffer, start, end);
        this.delivered += count;
        return count;
      };
    }
  }

  start(): void {
    this.rampTimer = setInterval(() => this.ramp(), 10);
    this.tickTimer = setInterval(() => send(this.tick()), this.config.reportIntervalMs);
    setTimeout(
      () => this.finish({}),
      Math.max(0, this.config.deadlineMs - (Date.now() - this.startedAt)),
    ).unref();
  }

  private ramp(): void {
    const due = rampTarget(this.conns.length, this.config.rampSeconds, Date.now() - this.startedAt);
    while (this.started < due && this.pending < this.config.maxPendingConnects && !this.finishing) {
      this.connect(this.conns[this.started] as Conn);
      this.started++;
    }
    if (this.started >= this.conns.length && this.rampTimer) {
      clearInterval(this.rampTimer);
      this.rampTimer = null;
    }
  }

  private connect(conn: Conn): void {
    const target = this.targets[conn.target % this.targets.length] as LeanTarget;
    const addresses = this.config.sourceAddresses;
    const localAddress = addresses.length > 0 ? addresses[conn.index % addresses.length] : undefined;
    this.pending++;
    conn.socket = new LeanSocket(target, this.handlers, conn, localAddress ? { localAddress } : {});
  }

  private onOpen(): void {
    this.pending--;
    this.opened++;
    this.held++;
  }

  private subscribeFrame(conn: Conn): string {
    const since = conn.last >= 0 ? conn.last : undefined;
    conn.generation++;
    conn.since = since;
    return this.dialect.subscribe(
      SUBSCRIBE_ID,
      conn.channel,
      since,
      since === undefined ? undefined : conn.epoch,
    );
  }

  /** One delivered message: offsets checked for gaps and duplicates, latency recorded when it carries a send time. */
  private onDelivery(conn: Conn, channel: string, offset: number, sentAt: unknown, arrivedAt: number): void {
    this.delivered++;
    if (channel !== conn.channel) return;
    if (conn.last < 0) {
      conn.last = offset;
    } else {
      const previous = conn.last;
      const step = observeOffset(previous, offset);
      conn.last = step.last;
      this.lost += step.lost;
      this.duplicated += step.duplicated;
      if (step.lost > 0 || step.duplicated > 0) {
        const what = step.lost > 0 ? `gap of ${step.lost}` : "duplicate";
        this.sample(
          `${what} on ${conn.channel}: offset ${offset} after ${previous} (socket ${conn.generation}, since ${conn.since})`,
        );
      }
    }
    if (typeof sentAt === "number") {
      const us = Math.min(HIGHEST_LATENCY_US, Math.max(1, Math.round((arrivedAt - sentAt) * 1000)));
      this.latency.recordValue(us);
      this.intervalLatency.recordValue(us);
    }
  }

  private onMessage(socket: LeanSocket<Conn>, payload: Buffer): void {
    const conn = socket.owner;
    const arrivedAt = nowMs();
    // Our own protocol's message frames: scanned, not parsed (the worker's main cost at high delivery rates).
    if (this.config.dialect === "rtgw") {
      const scanned = scanMessages(payload.toString("utf8"));
      if (scanned !== null) {
        for (const m of scanned) this.onDelivery(conn, m.channel, m.offset, m.sentAt, arrivedAt);
        return;
      }
    }
    for (const incoming of this.dialect.decode(payload)) {
      switch (incoming.kind) {
        case "message":
          this.onDelivery(
            conn,
            incoming.channel,
            incoming.offset,
            (incoming.data as { ts?: unknown } | null)?.ts,
            arrivedAt,
          );
          break;
        case "ready":
          socket.send(this.subscribeFrame(conn));
          break;
        case "reply":
          socket.send(incoming.text);
          break;
        case "ack":
          // An ack without an id (Pusher's) confirms the one subscription this connection makes.
          if (incoming.id !== undefined && incoming.id !== SUBSCRIBE_ID) break;
          this.subscribed++;
          conn.attempts = 0;
          if (conn.last < 0) conn.last = incoming.offset ?? 0;
          if (incoming.epoch !== undefined) conn.epoch = incoming.epoch;
          if (conn.everOpened) {
            this.reconnects++;
            if (this.reconnectTimes.length < MAX_RECONNECT_TIMES) {
              this.reconnectTimes.push((Date.now() - this.startedAt) / 1000);
            }
          }
          conn.everOpened = true;
          break;
        case "reconnect":
          conn.reconnectAfterMs = incoming.afterMs;
          break;
        case "error":
          this.sample(incoming.message);
          break;
        default:
          break;
      }
    }
  }

  private onClose(socket: LeanSocket<Conn>, code: number, reason: string, wasOpen: boolean): void {
    const conn = socket.owner;
    conn.socket = null;
    // Our own teardown at the end is not a close to report.
    if (this.finishing) return;
    if (wasOpen) {
      this.held--;
      this.closeCodes[code] = (this.closeCodes[code] ?? 0) + 1;
    } else {
      this.pending--;
      this.connectErrors++;
      this.sample(reason);
    }
    if (!this.config.reconnect || conn.attempts >= MAX_RECONNECT_ATTEMPTS) return;
    const delay =
      code === 1012 && conn.reconnectAfterMs !== undefined
        ? conn.reconnectAfterMs
        : backoffDelay(conn.attempts, LOAD_BACKOFF);
    conn.attempts++;
    conn.target++;
    conn.reconnectAfterMs = undefined;
    if (Date.now() - this.startedAt + delay >= this.config.deadlineMs) return;
    setTimeout(() => {
      if (!this.finishing && conn.socket === null) this.connect(conn);
    }, delay);
  }

  private sample(message: string): void {
    if (this.errorSamples.length < MAX_ERROR_SAMPLES && !this.errorSamples.includes(message)) {
      this.errorSamples.push(message);
    }
  }

  tick(): WorkerTick {
    const interval = this.intervalLatency;
    const at = (percentile: number) =>
      interval.totalCount > 0 ? interval.getValueAtPercentile(percentile) / 1000 : null;
    const [p50, p99, p999] = [at(50), at(99), at(99.9)];
    interval.reset();
    return {
      type: "tick",
      workerIndex: this.config.workerIndex,
      atMs: Date.now(),
      started: this.started,
      opened: this.opened,
      held: this.held,
      subscribed: this.subscribed,
      connectErrors: this.connectErrors,
      delivered: this.delivered,
      lost: this.lost,
      duplicated: this.duplicated,
      reconnects: this.reconnects,
      intervalP50Ms: p50,
      intervalP99Ms: p99,
      intervalP999Ms: p999,
      rss: process.memoryUsage.rss(),
    };
  }

  finish(finalOffsets: Record<string, number>): void {
    if (this.finishing) return;
    this.finishing = true;
    if (this.rampTimer) clearInterval(this.rampTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const conn of this.conns) {
      if (conn.last >= 0) this.lost += tailLoss(conn.last, finalOffsets[conn.channel]);
    }
    const result: WorkerResult = {
      type: "result",
      workerIndex: this.config.workerIndex,
      tick: this.tick(),
      latencyHistogram: encodeIntoCompressedBase64(this.latency),
      reconnectTimes: this.reconnectTimes,
      closeCodes: this.closeCodes,
      errorSamples: this.errorSamples,
    };
    for (const conn of this.conns) conn.socket?.destroy();
    send(result, () => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  }
}

function send(message: WorkerTick | WorkerResult, done?: () => void): void {
  if (process.send && process.connected) process.send(message, undefined, undefined, () => done?.());
  else done?.();
}

let worker: LoadWorker | null = null;
process.on("message", (raw: unknown) => {
  const parsed = toWorker.safeParse(raw);
  if (!parsed.success) return;
  const message: ToWorker = parsed.data;
  if (message.type === "start" && worker === null) {
    worker = new LoadWorker(message.config);
    worker.start();
  } else if (message.type === "finish") {
    if (worker) worker.finish(message.finalOffsets);
    else process.exit(0);
  }
});
// The coordinator is gone: nobody will read our results.
process.on("disconnect", () => process.exit(0));
