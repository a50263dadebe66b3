// Forks load workers, relays their ticks, and collects their results: the I/O shell shared by
// `rtgw load` and `rtgw bench`. Workers are always killed on the way out, whatever happened.
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { fromWorker, type ToWorker, type WorkerConfig, type WorkerResult, type WorkerTick } from "./ipc.js";
import { type MissingWorker, missingWorkers, type WorkerEnd } from "./report.js";

/** A module next to this one, as a forkable entry: `.ts` under tsx (development), `.js` when compiled. */
export function siblingEntry(fromUrl: string, name: string): { file: string; execArgv: string[] } {
  const dir = path.dirname(fileURLToPath(fromUrl));
  const ext = path.extname(fileURLToPath(fromUrl));
  return { file: path.join(dir, `${name}${ext}`), execArgv: ext === ".ts" ? ["--import", "tsx"] : [] };
}

export class WorkerPool {
  private readonly children: ChildProcess[] = [];
  readonly latest = new Map<number, WorkerTick>();
  private readonly results = new Map<number, WorkerResult>();
  private readonly exited = new Map<number, WorkerEnd>();
  private onTick: ((tick: WorkerTick) => void) | null = null;
  private finishWaitMs = 0;

  /** `profile`: worker index → extra node flags for that worker (the box's `--profile` runs one under --cpu-prof). */
  constructor(
    private readonly configs: readonly WorkerConfig[],
    private readonly extraExecArgv: ReadonlyMap<number, readonly string[]> = new Map(),
  ) {}

  start(onTick?: (tick: WorkerTick) => void): void {
    this.onTick = onTick ?? null;
    const entry = siblingEntry(import.meta.url, "worker");
    for (const config of this.configs) {
      const child = fork(entry.file, [], {
        execArgv: [...entry.execArgv, ...(this.extraExecArgv.get(config.workerIndex) ?? [])],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      this.children.push(child);
      child.on("message", (raw: unknown) => {
        const parsed = fromWorker.safeParse(raw);
        if (!parsed.success) return;
        if (parsed.data.type === "tick") {
          this.latest.set(parsed.data.workerIndex, parsed.data);
          this.onTick?.(parsed.data);
        } else {
          this.results.set(parsed.data.workerIndex, parsed.data);
          this.latest.set(parsed.data.workerIndex, parsed.data.tick);
        }
      });
      child.on("exit", (code, signal) => this.exited.set(config.workerIndex, { code, signal }));
      const start: ToWorker = { type: "start", config };
      child.send(start);
    }
  }

  get size(): number {
    return this.configs.length;
  }

  /** Workers that died before reporting. */
  get lost(): number {
    return this.lostIndices().size;
  }

  lostIndices(): Set<number> {
    const lost = new Set<number>();
    for (const config of this.configs) {
      if (this.exited.has(config.workerIndex) && !this.results.has(config.workerIndex))
        lost.add(config.workerIndex);
    }
    return lost;
  }

  /** After finish: the workers whose result never came, named with why. */
  missing(): MissingWorker[] {
    return missingWorkers(
      this.configs.map((c) => ({ workerIndex: c.workerIndex, connections: c.connections })),
      new Set(this.results.keys()),
      this.exited,
      this.finishWaitMs,
    );
  }

  /** Ask every worker to finish; resolve with the results that arrived within `timeoutMs`. */
  async finish(finalOffsets: Record<string, number>, timeoutMs = 20_000): Promise<WorkerResult[]> {
    const message: ToWorker = { type: "finish", finalOffsets };
    for (const child of this.children) if (child.connected) child.send(message);
    this.finishWaitMs = timeoutMs;
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const pending = this.configs.filter(
        (c) => !this.results.has(c.workerIndex) && !this.exited.has(c.workerIndex),
      );
      if (pending.length === 0) break;
      await sleep(20);
    }
    return [...this.results.values()].sort((a, b) => a.workerIndex - b.workerIndex);
  }

  kill(): void {
    for (const child of this.children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }

  /** Resolves once every worker process has exited (after kill), or after `timeoutMs`. */
  async exitedAll(timeoutMs = 5_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    const running = () => this.children.some((c) => c.exitCode === null && c.signalCode === null);
    while (running() && Date.now() < until) await sleep(20);
    return !running();
  }
}
