// What every VU shares during one run: the metric registry (k6's built-in metrics declared up front), the check
// tallies, the environment, the blocking HTTP client, and the counters the summary reports.
import type { SyncHttp } from "./http-client.js";
import { type Metric, MetricRegistry, type MetricType } from "./metrics.js";
import { Unsupported } from "./unsupported.js";

/** k6's built-in metrics that this runtime emits; thresholds may name any of them. */
const BUILTIN = {
  checks: ["rate", false],
  iterations: ["counter", false],
  iteration_duration: ["trend", true],
  dropped_iterations: ["counter", false],
  http_reqs: ["counter", false],
  http_req_duration: ["trend", true],
  http_req_failed: ["rate", false],
  ws_sessions: ["counter", false],
  ws_connecting: ["trend", true],
  ws_session_duration: ["trend", true],
  ws_msgs_sent: ["counter", false],
  ws_msgs_received: ["counter", false],
} satisfies Record<string, [MetricType, boolean]>;
/** k6 built-ins this runtime does not measure: a threshold on one is refused rather than passed on no data. */
export const UNMEASURED = [
  "vus",
  "vus_max",
  "data_sent",
  "data_received",
  "group_duration",
  "http_req_blocked",
  "http_req_connecting",
  "http_req_tls_handshaking",
  "http_req_sending",
  "http_req_waiting",
  "http_req_receiving",
  "ws_ping",
];

export type BuiltinMetrics = Record<keyof typeof BUILTIN, Metric>;

export class RunContext {
  readonly registry = new MetricRegistry();
  readonly builtin: BuiltinMetrics;
  readonly checks = new Map<string, { passes: number; fails: number }>();
  iterationErrors = 0;
  interruptedIterations = 0;
  /** Set by the first Unsupported error thrown anywhere: the run stops and reports it. */
  fatal: Error | undefined;
  onFatal: (err: Error) => void = () => {};

  constructor(
    readonly scriptPath: string,
    readonly env: Record<string, string>,
    readonly http: SyncHttp,
    readonly console: Console,
  ) {
    this.builtin = Object.fromEntries(
      Object.entries(BUILTIN).map(([name, [type, isTime]]) => [
        name,
        this.registry.declare(name, type as MetricType, isTime),
      ]),
    ) as BuiltinMetrics;
  }

  add(metric: Metric, value: number): void {
    this.registry.add(metric, value);
  }

  recordCheck(name: string, ok: boolean): void {
    const tally = this.checks.get(name) ?? { passes: 0, fails: 0 };
    if (ok) tally.passes++;
    else tally.fails++;
    this.checks.set(name, tally);
    this.add(this.builtin.checks, ok ? 1 : 0);
  }

  /** An exception in an iteration: k6 logs it and goes on; an Unsupported one ends the run. */
  iterationError(vu: number, err: unknown): void {
    if (err instanceof Unsupported) {
      this.abort(err);
      return;
    }
    this.iterationErrors++;
    // Errors thrown by script code come from the VU's realm: not `instanceof Error` here.
    const stack = (err as { stack?: unknown } | null)?.stack;
    const text = typeof stack === "string" ? stack : String(err);
    this.console.error(`ERRO[vu ${vu}] iteration error: ${text}`);
  }

  abort(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.onFatal(err);
  }
}
