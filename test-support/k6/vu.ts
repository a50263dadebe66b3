// A virtual user: its own JavaScript realm (node:vm context, so __ENV/__VU/__ITER and module state are per VU,
// as each k6 VU has its own runtime), its own instances of the script's modules, and k6's iteration model: an
// iteration lasts until the exported function has returned and nothing it started (sockets, timers) is pending.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import type { RunContext } from "./context.js";
import { k6Modules } from "./modules/index.js";
import type { Scenario } from "./options.js";
import { Unsupported } from "./unsupported.js";

export interface ScenarioState {
  name: string;
  options: Scenario;
  /** Unix ms when the scenario started. */
  startTime: number;
  iterationsStarted: number;
}

export type Outcome = "completed" | "failed" | "interrupted";

/** What one iteration holds open: the iteration ends when the function returned and `pending` is empty. */
export class IterationScope {
  private readonly pending = new Set<{ kill(): void }>();
  private returned = false;
  private resolveOutcome!: (outcome: Outcome) => void;
  readonly outcome = new Promise<Outcome>((resolve) => {
    this.resolveOutcome = resolve;
  });
  done = false;

  constructor(private readonly onError: (err: unknown) => void) {}

  hold(handle: { kill(): void }): void {
    if (this.done) return;
    this.pending.add(handle);
  }

  release(handle: { kill(): void }): void {
    this.pending.delete(handle);
    this.settleIfIdle();
  }

  /** Run a callback on the VU's behalf (an event handler, a timer): skipped once the iteration is over. */
  callback(fn: () => void): void {
    if (this.done) return;
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  functionReturned(): void {
    this.returned = true;
    this.settleIfIdle();
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.onError(err);
    this.end("failed");
  }

  interrupt(): void {
    this.end("interrupted");
  }

  private settleIfIdle(): void {
    if (this.returned && this.pending.size === 0) this.end("completed");
  }

  private end(outcome: Outcome): void {
    if (this.done) return;
    this.done = true;
    for (const handle of this.pending) handle.kill();
    this.pending.clear();
    this.resolveOutcome(outcome);
  }
}

export class VirtualUser {
  scope: IterationScope | undefined;
  scenario: ScenarioState | undefined;
  iterationInInstance = 0;
  iterationInScenario = 0;
  /** The scenario-wide sequence number of the running iteration (exec.scenario.iterationInTest). */
  iterationInTest = 0;
  private exports: Record<string, unknown> = {};
  private readonly context: vm.Context;
  private readonly modules = new Map<string, vm.Module>();

  private constructor(
    readonly run: RunContext,
    /** 1-based; 0 is the init-only instance that reads `options` (as k6's __VU in the init of the first run). */
    readonly id: number,
  ) {
    this.context = vm.createContext({
      __ENV: { ...run.env },
      __VU: id,
      __ITER: 0,
      console: run.console,
    });
  }

  static async create(run: RunContext, id: number): Promise<VirtualUser> {
    const vu = new VirtualUser(run, id);
    const main = await vu.load(path.resolve(run.scriptPath));
    await main.evaluate();
    vu.exports = main.namespace as Record<string, unknown>;
    return vu;
  }

  get inInit(): boolean {
    return this.scope === undefined;
  }

  exported(name: string): unknown {
    return this.exports[name];
  }

  /** One iteration of `exec`, with k6's accounting (iterations, iteration_duration) for one that was not cut. */
  async iterate(exec: string, scenario: ScenarioState): Promise<Outcome> {
    const fn = this.exports[exec];
    if (typeof fn !== "function")
      throw new Unsupported(`exec "${exec}" (not an exported function of the script)`);
    // Iterations that finish at once resolve through promises only: yield to timers and sockets between them, or
    // a looping executor (ramping-vus) would starve everything else.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.scenario !== scenario) {
      this.scenario = scenario;
      this.iterationInScenario = 0;
    }
    this.context.__ITER = this.iterationInInstance;
    this.iterationInTest = scenario.iterationsStarted++;
    const scope = new IterationScope((err) => this.run.iterationError(this.id, err));
    this.scope = scope;
    const started = performance.now();
    try {
      const returned = fn();
      if (returned && typeof (returned as Promise<unknown>).then === "function") await returned;
      scope.functionReturned();
    } catch (err) {
      scope.fail(err);
    }
    const outcome = await scope.outcome;
    this.iterationInInstance++;
    this.iterationInScenario++;
    if (outcome !== "interrupted") {
      this.run.add(this.run.builtin.iterations, 1);
      this.run.add(this.run.builtin.iteration_duration, performance.now() - started);
    } else {
      this.run.interruptedIterations++;
    }
    return outcome;
  }

  /** Cut the running iteration (gracefulStop over): its sockets and timers go without running handlers. */
  interrupt(): void {
    this.scope?.interrupt();
  }

  private async load(file: string): Promise<vm.Module> {
    const cached = this.modules.get(file);
    if (cached) return cached;
    const module = new vm.SourceTextModule(readFileSync(file, "utf8"), {
      context: this.context,
      identifier: pathToFileURL(file).href,
    });
    this.modules.set(file, module);
    try {
      await module.link((specifier, referencing) => this.resolve(specifier, referencing));
    } catch (err) {
      const missing = /does not provide an export named '([^']+)'/.exec((err as Error).message);
      if (missing) throw new Unsupported(`${(err as Error).message} (${missing[1]})`);
      throw err;
    }
    return module;
  }

  private async resolve(specifier: string, referencing: vm.Module): Promise<vm.Module> {
    if (specifier === "k6" || specifier.startsWith("k6/")) {
      const cached = this.modules.get(specifier);
      if (cached) return cached;
      const factory = k6Modules[specifier];
      if (!factory) throw new Unsupported(`module "${specifier}"`);
      const exports = factory(this);
      const module = new vm.SyntheticModule(
        Object.keys(exports),
        function (this: vm.SyntheticModule) {
          for (const [name, value] of Object.entries(exports)) this.setExport(name, value);
        },
        { context: this.context, identifier: specifier },
      );
      this.modules.set(specifier, module);
      return module;
    }
    if (specifier.startsWith("./") || specifier.startsWith("../")) {
      const from = new URL(referencing.identifier);
      return this.load(path.resolve(path.dirname(from.pathname), specifier));
    }
    throw new Unsupported(`import "${specifier}" (only k6 modules and relative files)`);
  }
}
