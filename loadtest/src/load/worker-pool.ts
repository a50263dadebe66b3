// Forks load workers, relays their ticks, and collects their results: the I/O shell shared by
// `rtgw load` and `rtgw bench`. Workers are always killed on the way out, whatever happened.
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { fromWorker, type ToWorker, type WorkerConfig, type WorkerResult, type WorkerTick } from "./ipc.js";

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
  private readonly exited = new Set<number>();
  private onTick: ((tick: WorkerTick) => void) | null = null;

  constructor(private readonly configs: readonly WorkerConfig[]) {}

  start(onTick?: (tick: WorkerTick) => void): void {
    this.onTick = onTick ?? null;
    const entry = siblingEntry(import.meta.url, "worker");
    for (const config of this.configs) {
      const child = fork(entry.file, [], {
        execArgv: entry.execArgv,
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
      child.on("exit", () => this.exited.add(config.workerIndex));
      const start: ToWorker = { type: "start", config };
      child.send(start);
    }
  }

  get size(): number {
    return this.configs.length;
  }

  /** Workers that died before reporting. */
  get lost(): number {
    let lost = 0;
    for (const config of this.configs) {
      if (this.exited.has(config.workerIndex) && !this.results.has(config.workerIndex)) lost++;
    }
    return lost;
  }

  /** Ask every worker to finish; resolve with the results that arrived within `timeoutMs`. */
  async finish(finalOffsets: Record<string, number>, timeoutMs = 20_000): Promise<WorkerResult[]> {
    const message: ToWorker = { type: "finish", finalOffsets };
    for (const child of this.children) if (child.connected) child.send(message);
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
}
