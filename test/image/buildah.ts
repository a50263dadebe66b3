// buildah for the image test: commands run as root (directly, or through `sudo -n`), image configs read and
// parsed, and containers started with `buildah run --isolation chroot --network host` and always removed.
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { z } from "zod";

const exec = promisify(execFile);
const AS_ROOT = process.getuid?.() === 0 ? [] : ["sudo", "-n"];

export interface Ran {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a command as root; reject with the tail of its output when it fails or outlives `timeoutMs`. */
export async function asRoot(
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<Ran> {
  const [command, ...rest] = [...AS_ROOT, ...args] as [string, ...string[]];
  const started = Date.now();
  try {
    const { stdout, stderr } = await exec(command, rest, {
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    return { stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const tail = `${e.stdout ?? ""}\n${e.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`${args.join(" ")} failed: ${e.message.split("\n")[0]}\n${tail}`);
  }
}

const imageConfig = z.object({
  User: z.string().optional(),
  Entrypoint: z.array(z.string()).nullish(),
  Cmd: z.array(z.string()).nullish(),
  WorkingDir: z.string().optional(),
});
export type ImageConfig = z.infer<typeof imageConfig>;

/** What the image runs and as whom (the OCI config `buildah inspect` reports). */
export async function inspectImage(image: string): Promise<ImageConfig> {
  const { stdout } = await asRoot(["buildah", "inspect", "--type", "image", image]);
  return z.object({ OCIv1: z.object({ config: imageConfig }) }).parse(JSON.parse(stdout)).OCIv1.config;
}

/** The size buildah reports for an image, as it prints it (e.g. "439 MB"). */
export async function imageSize(image: string): Promise<string> {
  const { stdout } = await asRoot(["buildah", "images", "--json", image]);
  const [first] = z.array(z.object({ size: z.string() })).parse(JSON.parse(stdout));
  return first?.size ?? "unknown";
}

export interface Container {
  name: string;
  /** Run a command inside to completion (chroot isolation, host network). */
  run(command: string[], env?: Record<string, string>, timeoutMs?: number): Promise<Ran>;
  /** Start a long-running command inside; its output is kept in `logs()`. */
  start(command: string[], env?: Record<string, string>): Running;
  remove(): Promise<void>;
}

export interface Running {
  /** Resolves with the exit code of `buildah run` (128 + signal for a signal). */
  exited: Promise<number>;
  logs(): string;
  /** Signal the command itself (the process inside, not buildah: buildah kills what it runs on SIGTERM). */
  signalInside(signal: NodeJS.Signals): boolean;
  /** SIGKILL the command and buildah; idempotent. */
  kill(): void;
}

const runArgs = (name: string, command: string[], env: Record<string, string>): string[] => [
  "buildah",
  "run",
  "--isolation",
  "chroot",
  "--network",
  "host",
  ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
  name,
  "--",
  ...command,
];

const liveChildren = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of liveChildren) killTree(child.pid);
});

/** A working container from `image`; remove() it in an `after` hook. */
export async function fromImage(image: string, name: string): Promise<Container> {
  await asRoot(["buildah", "rm", name]).catch(() => undefined); // a leftover of an interrupted run
  await asRoot(["buildah", "from", "--name", name, image]);
  const started: Running[] = [];
  return {
    name,
    run: (command, env = {}, timeoutMs = 60_000) => asRoot(runArgs(name, command, env), { timeoutMs }),
    start(command, env = {}) {
      const [bin, ...args] = [...AS_ROOT, ...runArgs(name, command, env)] as [string, ...string[]];
      const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
      liveChildren.add(child);
      let output = "";
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-200_000);
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      const exited = new Promise<number>((resolve) =>
        child.once("exit", (code, signal) => {
          liveChildren.delete(child);
          resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : 15));
        }),
      );
      const running: Running = {
        exited,
        logs: () => output,
        signalInside(signal) {
          const inside = descendants(child.pid).find((pid) => commandOf(pid)[0] === command[0]);
          const target = inside ?? descendants(child.pid).at(-1);
          return target !== undefined && signalPid(target, signal);
        },
        kill: () => killTree(child.pid),
      };
      started.push(running);
      return running;
    },
    async remove() {
      for (const running of started) running.kill();
      await Promise.all(started.map((r) => r.exited));
      await asRoot(["buildah", "rm", name]).catch(() => undefined);
    },
  };
}

/** Every process below `pid`, parents before children (from /proc). */
function descendants(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = [...parentOf].filter(([, ppid]) => frontier.includes(ppid)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

function commandOf(pid: number): string[] {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return argv.map((a, i) => (i === 0 ? (a.split("/").at(-1) ?? a) : a));
  } catch {
    return [];
  }
}

function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  for (const p of [...descendants(pid).reverse(), pid]) signalPid(p, "SIGKILL");
}

/** Signal a process that may belong to root (through `sudo -n kill` when this test is not root). */
function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  if (AS_ROOT.length > 0)
    return spawnSync(AS_ROOT[0]!, [...AS_ROOT.slice(1), "kill", `-${signal}`, String(pid)]).status === 0;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}
