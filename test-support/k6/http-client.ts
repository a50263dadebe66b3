// k6/http is synchronous: a request blocks its VU until the response. Here a worker thread makes the request and
// the runtime thread waits on a SharedArrayBuffer (Atomics.wait), so the call really blocks. Unlike k6, where only
// the calling VU waits, this blocks every VU of the process for the request's duration (~1 ms on loopback).
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";

export interface HttpRequest {
  method: string;
  url: string;
  body: string | null;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string>;
  durationMs: number;
  error: string;
}

export class SyncHttp {
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly channel = new MessageChannel();
  private readonly worker: Worker;

  constructor() {
    // The worker is TypeScript: it registers tsx itself (a worker does not inherit the parent's loader hooks).
    const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(
      new URL("./http-worker.ts", import.meta.url).href,
    )}); })`;
    this.worker = new Worker(bootstrap, {
      eval: true,
      workerData: { port: this.channel.port2, signal: this.signal },
      transferList: [this.channel.port2],
    });
    this.worker.unref();
  }

  request(request: HttpRequest): HttpResult {
    Atomics.store(this.signal, 0, 0);
    this.channel.port1.postMessage(request);
    const waited = Atomics.wait(this.signal, 0, 0, request.timeoutMs + 5_000);
    const reply = receiveMessageOnPort(this.channel.port1);
    if (waited === "timed-out" || !reply) {
      return { status: 0, body: "", headers: {}, durationMs: request.timeoutMs, error: "request timeout" };
    }
    return reply.message as HttpResult;
  }

  async close(): Promise<void> {
    this.channel.port1.close();
    await this.worker.terminate();
  }
}
