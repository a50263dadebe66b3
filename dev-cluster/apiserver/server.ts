// An in-process fake Kubernetes API server for tests: node:http speaking the REST + watch protocol closely enough
// that the real @kubernetes/client-node works against it and typical controller mistakes fail the way they would on
// a real cluster.
//
// Faithful: discovery (/api, /apis, group-version resource lists); namespaced CRUD and cluster-wide list/watch;
// one global resourceVersion counter bumped on every write (a write that changes nothing is not a write: no new
// resourceVersion, no watch event); metadata.generation bumped only when something outside metadata/status changes;
// 409 Conflict on a stale resourceVersion (PUT, patches, /status, /scale) and AlreadyExists on create; watch streams
// (`?watch=true&resourceVersion=`) with ADDED/MODIFIED/DELETED, BOOKMARK (allowWatchBookmarks), timeoutSeconds,
// selector transitions (an object leaving a label selector is DELETED for that watcher), and 410 Gone as an ERROR
// event ("too old resource version") for a version older than the compacted window (`compact()`); lists carry the
// list resourceVersion and items without kind/apiVersion, as the real server sends them; status subresource separate
// from spec for kinds that have one (a main-resource write keeps the old status, a /status write changes only
// status); the scale subresource (autoscaling/v1 Scale); server-side apply with managedFields (FieldsV1) per
// manager, associative lists merged by key, fields dropped from an apply removed, 409 conflicts naming the other
// manager unless force=true, `force` rejected on non-apply patches, fieldManager required for apply; merge patch,
// strategic merge patch (keyed lists), JSON patch; owner-reference garbage collection (background, Orphan honoured);
// label selectors on list/watch; MicroTime fields (Lease times, events.k8s.io eventTime) must carry microseconds;
// CRDs registered with `registerCrd` are pruned, defaulted and validated (OpenAPI + CEL) like the real server;
// fault injection (the next N matching requests fail with 500/429 + Retry-After).
//
// Authentication and RBAC only through options.authorize (rbac.ts; without it every request is allowed).
// Not modelled (fidelity limits): admission webhooks;
// finalizers and graceful deletion (deletes are immediate); built-in controllers (no Deployment → ReplicaSet → Pod,
// no endpoints; tests write Deployment status themselves); defaulting and validation of built-in kinds; strategic
// merge directives ($patch, $retainKeys, $setElementOrder); SSA of status on kinds without a status subresource
// edge cases, granular list-type markers beyond the table in fieldset.ts, and server-side apply "unset to default"
// semantics; pagination (limit/continue are ignored); fieldSelector other than metadata.name/metadata.namespace;
// protobuf; watch-list (sendInitialEvents); resourceVersionMatch; dry-run; apply conflicts are by exact path only.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";
import { makeCrdValidator } from "./crd-validator.js";
import { deepEqual, isObject, type Json, type JsonObject } from "./fieldset.js";
import { apply, describePath, recordUpdate } from "./ownership.js";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "./patch.js";
import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from "./resources.js";
import { matchesLabels, parseLabelSelector, type Requirement } from "./selector.js";

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  status: number;
  watch: boolean;
}

interface Fault {
  remaining: number;
  status: 500 | 429 | 503;
  match: (r: { method: string; path: string; watch: boolean }) => boolean;
}

interface WatchEvent {
  rv: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  rt: ResourceType;
  object: JsonObject;
  previous: JsonObject | undefined;
}

interface Watcher {
  rt: ResourceType;
  namespace: string | undefined;
  selector: Requirement[];
  fieldName: string | undefined;
  send: (ev: WatchEvent) => void;
  close: () => void;
}

type Validator = (obj: JsonObject) => { ok: true; object: JsonObject } | { ok: false; causes: string[] };

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }
}

const MICROTIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;
const MICROTIME_FIELDS: Record<string, string[][]> = {
  "coordination.k8s.io/Lease": [
    ["spec", "renewTime"],
    ["spec", "acquireTime"],
  ],
  "events.k8s.io/Event": [["eventTime"]],
};

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function status(code: number, reason: string, message: string, details?: JsonObject): JsonObject {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 400 ? "Success" : "Failure",
    message,
    reason,
    code,
    ...(details ? { details } : {}),
  };
}

export interface FakeApiServerOptions {
  /** How often watches with allowWatchBookmarks get a BOOKMARK. */
  bookmarkIntervalMs?: number;
  /** Delay before owner-reference garbage collection runs (it is asynchronous on a real cluster too). */
  gcDelayMs?: number;
  /** Watch events kept for resuming watches (older versions get 410 Gone). */
  historyLimit?: number;
  /** Authentication + authorization (rbac.ts): a Status to answer instead, or undefined to serve the request. */
  authorize?: (req: IncomingMessage) => { code: number; reason: string; message: string } | undefined;
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly types: ResourceType[] = [...RESOURCE_TYPES];
  private readonly validators = new Map<string, Validator>();
  private readonly store = new Map<string, JsonObject>();
  private readonly log: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly faults: Fault[] = [];
  private rv = 100;
  private compactedRv = 0;
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = "";

  constructor(private readonly options: FakeApiServerOptions = {}) {}

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(options);
    await s.listen();
    return s;
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.closeWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** A KubeConfig for client-node pointing at this server. */
  kubeConfig(namespace = "default"): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "tester", token: "fake-token" }],
      contexts: [{ name: "fake", cluster: "fake", user: "tester", namespace }],
      currentContext: "fake",
    });
    return kc;
  }

  // ---- test controls --------------------------------------------------------------------------------------------

  /** Serves a CRD's kind with its subresources, pruning, defaults, OpenAPI and CEL validation. */
  registerCrd(crd: object, opts: { validate?: boolean } = {}): void {
    const spec = (crd as { spec: JsonObject }).spec;
    const names = spec.names as JsonObject;
    for (const v of spec.versions as JsonObject[]) {
      const sub = (v.subresources ?? {}) as JsonObject;
      const rt: ResourceType = {
        group: spec.group as string,
        version: v.name as string,
        kind: names.kind as string,
        plural: names.plural as string,
        singular: (names.singular as string) ?? (names.kind as string).toLowerCase(),
        namespaced: spec.scope === "Namespaced",
        status: sub.status !== undefined,
        ...(sub.scale ? { scale: sub.scale as unknown as ResourceType["scale"] } : {}),
        shortNames: (names.shortNames as string[]) ?? [],
      };
      this.types.push(rt);
      const schema = ((v.schema as JsonObject).openAPIV3Schema ?? {}) as JsonObject;
      // validate: false stands for an old CRD or disabled validation: what the operator must survive.
      if (opts.validate !== false) this.validators.set(`${rt.group}/${rt.kind}`, makeCrdValidator(schema));
    }
  }

  /** Drops the event history: watches resuming from any version up to now get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.log.length = 0;
  }

  /** Ends every open watch stream (as an API server restart or a load balancer timeout would). */
  closeWatches(): void {
    for (const w of [...this.watchers]) w.close();
  }

  /** The next `count` requests matching `match` (default: all) fail with `status`. */
  failNext(
    count: number,
    code: 500 | 429 | 503 = 500,
    match?: (r: { method: string; path: string; watch: boolean }) => boolean,
  ): void {
    this.faults.push({ remaining: count, status: code, match: match ?? (() => true) });
  }

  /** Cancels every pending injected fault. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Mutating requests (POST/PUT/PATCH/DELETE), optionally filtered by a path substring. */
  writes(pathIncludes = ""): RequestRecord[] {
    return this.requests.filter((r) => r.method !== "GET" && r.path.includes(pathIncludes));
  }

  currentResourceVersion(): number {
    return this.rv;
  }

  /** Direct read of the store (a deep copy), for assertions. */
  get(apiVersion: string, kind: string, namespace: string, name: string): JsonObject | undefined {
    const rt = this.typeByKind(apiVersion, kind);
    const o = this.store.get(this.key(rt, namespace, name));
    return o ? this.present(rt, o) : undefined;
  }

  list(apiVersion: string, kind: string, namespace?: string): JsonObject[] {
    const rt = this.typeByKind(apiVersion, kind);
    return this.objectsOf(rt, namespace).map((o) => this.present(rt, o));
  }

  // ---- plumbing -------------------------------------------------------------------------------------------------

  private typeByKind(apiVersion: string, kind: string): ResourceType {
    const rt = this.types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
    if (!rt) throw new Error(`fake apiserver: unknown kind ${apiVersion} ${kind}`);
    return rt;
  }

  private key(rt: ResourceType, ns: string | undefined, name: string): string {
    return `${rt.group}/${rt.plural}/${rt.namespaced ? (ns ?? "") : ""}/${name}`;
  }

  private objectsOf(rt: ResourceType, ns: string | undefined): JsonObject[] {
    const prefix = `${rt.group}/${rt.plural}/${ns !== undefined && rt.namespaced ? `${ns}/` : ""}`;
    return [...this.store.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  private present(rt: ResourceType, o: JsonObject): JsonObject {
    return { apiVersion: apiVersionOf(rt), kind: rt.kind, ...structuredClone(o) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const query = Object.fromEntries(url.searchParams.entries());
    const record: RequestRecord = {
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      contentType: req.headers["content-type"],
      status: 200,
      watch: query.watch === "true" || query.watch === "1",
    };
    this.requests.push(record);
    const send = (code: number, body: Json, headers: Record<string, string> = {}) => {
      record.status = code;
      res.writeHead(code, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const refused = this.options.authorize?.(req);
      if (refused) {
        req.resume();
        send(refused.code, status(refused.code, refused.reason, refused.message));
        return;
      }
      const body = await readBody(req);
      const fault = this.faults.find((f) => f.remaining > 0 && f.match(record));
      if (fault) {
        fault.remaining--;
        const reason = fault.status === 429 ? "TooManyRequests" : "InternalError";
        send(
          fault.status,
          status(fault.status, reason, "injected fault"),
          fault.status === 429 ? { "retry-after": "1" } : {},
        );
        return;
      }
      const out = this.route(record, body, req.headers["content-type"], res);
      if (out === "streaming") return;
      send(out.code, out.body);
    } catch (e) {
      if (e instanceof HttpError) send(e.code, status(e.code, e.reason, e.message, e.details));
      else send(500, status(500, "InternalError", String((e as Error).stack ?? e)));
    }
  }

  private route(
    r: RequestRecord,
    rawBody: string,
    contentType: string | undefined,
    res: ServerResponse,
  ): { code: number; body: Json } | "streaming" {
    const parts = r.path.split("/").filter(Boolean);
    // Discovery.
    if (r.method === "GET") {
      if (r.path === "/api") return { code: 200, body: { kind: "APIVersions", versions: ["v1"] } };
      if (r.path === "/apis") return { code: 200, body: this.groupList() };
      if (parts[0] === "api" && parts.length === 2)
        return { code: 200, body: this.resourceList("", parts[1]!) };
      if (parts[0] === "apis" && parts.length === 3)
        return { code: 200, body: this.resourceList(parts[1]!, parts[2]!) };
    }
    // /api/v1/... or /apis/{group}/{version}/...
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === "api") {
      group = "";
      version = parts[1] ?? "";
      rest = parts.slice(2);
    } else if (parts[0] === "apis") {
      group = parts[1] ?? "";
      version = parts[2] ?? "";
      rest = parts.slice(3);
    } else
      throw new HttpError(404, "NotFound", `the server could not find the requested resource (${r.path})`);
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource] = rest;
    const rt = this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
    if (!rt)
      throw new HttpError(404, "NotFound", `the server could not find the requested resource (${r.path})`);
    if (name === undefined) {
      if (r.method === "GET" && r.watch) return this.watch(rt, namespace, r.query, res);
      if (r.method === "GET") return { code: 200, body: this.listResponse(rt, namespace, r.query) };
      if (r.method === "POST") {
        if (!namespace && rt.namespaced)
          throw new HttpError(405, "MethodNotAllowed", "create needs a namespace");
        return { code: 201, body: this.create(rt, namespace, parseBody(rawBody, contentType), r.query) };
      }
      throw new HttpError(405, "MethodNotAllowed", `${r.method} is not supported on a collection`);
    }
    if (subresource !== undefined && subresource !== "status" && subresource !== "scale") {
      throw new HttpError(404, "NotFound", `no subresource ${subresource}`);
    }
    if (subresource === "status" && !rt.status)
      throw new HttpError(404, "NotFound", `${rt.plural} has no status`);
    if (subresource === "scale" && !rt.scale)
      throw new HttpError(404, "NotFound", `${rt.plural} has no scale`);
    switch (r.method) {
      case "GET": {
        const o = this.mustGet(rt, namespace, name);
        return { code: 200, body: subresource === "scale" ? this.scaleOf(rt, o) : this.present(rt, o) };
      }
      case "PUT":
        return {
          code: 200,
          body: this.update(rt, namespace, name, subresource, parseBody(rawBody, contentType), r.query),
        };
      case "PATCH":
        return {
          code: 200,
          body: this.patch(rt, namespace, name, subresource, rawBody, contentType ?? "", r.query),
        };
      case "DELETE":
        return { code: 200, body: this.delete(rt, namespace, name, r.query, rawBody) };
      default:
        throw new HttpError(405, "MethodNotAllowed", `${r.method} not allowed`);
    }
  }

  private groupList(): JsonObject {
    const groups = new Map<string, string[]>();
    for (const t of this.types) {
      if (t.group === "") continue;
      const vs = groups.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      groups.set(t.group, vs);
    }
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [...groups].map(([name, vs]) => ({
        name,
        versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0]! },
      })),
    };
  }

  private resourceList(group: string, version: string): JsonObject {
    const ts = this.types.filter((t) => t.group === group && t.version === version);
    if (ts.length === 0) throw new HttpError(404, "NotFound", `no group version ${group}/${version}`);
    const resources: JsonObject[] = [];
    for (const t of ts) {
      resources.push({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
        ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
      });
      if (t.status) {
        resources.push({
          name: `${t.plural}/status`,
          singularName: "",
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ["get", "patch", "update"],
        });
      }
      if (t.scale) {
        resources.push({
          name: `${t.plural}/scale`,
          singularName: "",
          namespaced: t.namespaced,
          group: "autoscaling",
          version: "v1",
          kind: "Scale",
          verbs: ["get", "patch", "update"],
        });
      }
    }
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    };
  }

  private mustGet(rt: ResourceType, ns: string | undefined, name: string): JsonObject {
    const o = this.store.get(this.key(rt, ns, name));
    if (!o)
      throw new HttpError(
        404,
        "NotFound",
        `${rt.plural}${rt.group ? `.${rt.group}` : ""} "${name}" not found`,
        { name, group: rt.group, kind: rt.plural },
      );
    return o;
  }

  private matches(
    rt: ResourceType,
    o: JsonObject,
    selector: Requirement[],
    fieldName: string | undefined,
  ): boolean {
    const meta = o.metadata as JsonObject;
    if (fieldName !== undefined && meta.name !== fieldName) return false;
    return matchesLabels(selector, meta.labels as Record<string, string> | undefined) && rt !== undefined;
  }

  private selectors(q: Record<string, string>): { selector: Requirement[]; fieldName: string | undefined } {
    let selector: Requirement[];
    try {
      selector = parseLabelSelector(q.labelSelector);
    } catch (e) {
      throw new HttpError(400, "BadRequest", (e as Error).message);
    }
    let fieldName: string | undefined;
    for (const part of (q.fieldSelector ?? "").split(",").filter(Boolean)) {
      const m = /^metadata\.(name|namespace)==?(.*)$/.exec(part);
      if (!m) throw new HttpError(400, "BadRequest", `field label not supported: ${part}`);
      if (m[1] === "name") fieldName = m[2];
    }
    return { selector, fieldName };
  }

  private listResponse(rt: ResourceType, ns: string | undefined, q: Record<string, string>): JsonObject {
    const { selector, fieldName } = this.selectors(q);
    const items = this.objectsOf(rt, ns)
      .filter((o) => this.matches(rt, o, selector, fieldName))
      .map((o) => structuredClone(o));
    return {
      kind: `${rt.kind}List`,
      apiVersion: apiVersionOf(rt),
      metadata: { resourceVersion: String(this.rv) },
      items,
    };
  }

  private watch(
    rt: ResourceType,
    ns: string | undefined,
    q: Record<string, string>,
    res: ServerResponse,
  ): "streaming" {
    const { selector, fieldName } = this.selectors(q);
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    const write = (type: string, object: JsonObject) => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const requested = q.resourceVersion;
    const fromRv = requested && requested !== "0" ? Number(requested) : undefined;
    if (fromRv !== undefined && (Number.isNaN(fromRv) || fromRv < this.compactedRv)) {
      write("ERROR", status(410, "Expired", `too old resource version: ${requested} (${this.compactedRv})`));
      res.end();
      return "streaming";
    }
    const watcher: Watcher = {
      rt,
      namespace: rt.namespaced ? ns : undefined,
      selector,
      fieldName,
      send: (ev) => {
        const now = this.matches(rt, ev.object, selector, fieldName);
        const before = ev.previous !== undefined && this.matches(rt, ev.previous, selector, fieldName);
        let type: string | undefined = ev.type;
        if (ev.type === "MODIFIED")
          type = now && before ? "MODIFIED" : now ? "ADDED" : before ? "DELETED" : undefined;
        else if (!now) type = undefined;
        if (type) write(type, this.present(rt, ev.object));
      },
      close: () => {
        cleanup();
        res.end();
      },
    };
    const timers: NodeJS.Timeout[] = [];
    const cleanup = () => {
      this.watchers.delete(watcher);
      for (const t of timers) clearInterval(t);
    };
    res.on("close", cleanup);
    if (fromRv === undefined) {
      for (const o of this.objectsOf(rt, watcher.namespace)) {
        if (this.matches(rt, o, selector, fieldName)) write("ADDED", this.present(rt, o));
      }
    } else {
      for (const ev of this.log) if (ev.rv > fromRv && this.eventFor(watcher, ev)) watcher.send(ev);
    }
    this.watchers.add(watcher);
    if (q.allowWatchBookmarks === "true") {
      timers.push(
        setInterval(
          () =>
            write("BOOKMARK", {
              kind: rt.kind,
              apiVersion: apiVersionOf(rt),
              metadata: { resourceVersion: String(this.rv) },
            }),
          this.options.bookmarkIntervalMs ?? 1000,
        ),
      );
    }
    if (q.timeoutSeconds) timers.push(setTimeout(() => watcher.close(), Number(q.timeoutSeconds) * 1000));
    return "streaming";
  }

  private eventFor(w: Watcher, ev: WatchEvent): boolean {
    if (ev.rt !== w.rt) return false;
    return w.namespace === undefined || (ev.object.metadata as JsonObject).namespace === w.namespace;
  }

  private emit(
    type: WatchEvent["type"],
    rt: ResourceType,
    object: JsonObject,
    previous: JsonObject | undefined,
  ): void {
    const ev: WatchEvent = { rv: this.rv, type, rt, object: structuredClone(object), previous };
    this.log.push(ev);
    // Like etcd's compaction: a bounded history; resuming from before it gets 410 Gone.
    if (this.log.length > (this.options.historyLimit ?? 10_000)) {
      const dropped = this.log.shift()!;
      this.compactedRv = dropped.rv;
    }
    for (const w of this.watchers) if (this.eventFor(w, ev)) w.send(ev);
  }

  private checkMicroTime(rt: ResourceType, o: JsonObject): void {
    for (const path of MICROTIME_FIELDS[`${rt.group}/${rt.kind}`] ?? []) {
      let v: Json | undefined = o;
      for (const p of path) v = isObject(v) ? v[p] : undefined;
      if (v !== undefined && v !== null && (typeof v !== "string" || !MICROTIME.test(v))) {
        throw new HttpError(
          400,
          "BadRequest",
          `${path.join(".")}: parsing time ${JSON.stringify(v)} as RFC3339Micro: cannot parse`,
        );
      }
    }
  }

  private validate(rt: ResourceType, o: JsonObject): JsonObject {
    this.checkMicroTime(rt, o);
    const meta = o.metadata as JsonObject | undefined;
    if (!meta || typeof meta.name !== "string" || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name)) {
      throw new HttpError(
        422,
        "Invalid",
        `${rt.kind} "${meta?.name ?? ""}" is invalid: metadata.name: Invalid value`,
      );
    }
    const v = this.validators.get(`${rt.group}/${rt.kind}`);
    if (!v) return o;
    const r = v(o);
    if (!r.ok) {
      throw new HttpError(
        422,
        "Invalid",
        `${rt.kind}.${rt.group} "${meta.name}" is invalid: ${r.causes.join(", ")}`,
        {
          name: meta.name,
          group: rt.group,
          kind: rt.kind,
          causes: r.causes.map((message) => ({ message })),
        },
      );
    }
    return r.object;
  }

  /** Stores `next` (replacing `prev`), bumping resourceVersion and generation; a no-op write stores nothing. */
  private commit(rt: ResourceType, prev: JsonObject | undefined, next: JsonObject): JsonObject {
    delete next.apiVersion;
    delete next.kind;
    const meta = next.metadata as JsonObject;
    if (prev) {
      const pm = prev.metadata as JsonObject;
      for (const k of ["uid", "creationTimestamp", "name", "namespace", "generation"])
        meta[k] = pm[k] as Json;
      if (meta.generation === undefined) delete meta.generation;
      meta.resourceVersion = pm.resourceVersion as Json;
      if (deepEqual(withoutTimes(prev), withoutTimes(next))) return prev;
      const specOf = (o: JsonObject) =>
        Object.fromEntries(Object.entries(o).filter(([k]) => k !== "metadata" && k !== "status"));
      if (pm.generation !== undefined && !deepEqual(specOf(prev) as Json, specOf(next) as Json)) {
        meta.generation = (pm.generation as number) + 1;
      }
    }
    this.rv++;
    meta.resourceVersion = String(this.rv);
    this.store.set(this.key(rt, meta.namespace as string | undefined, meta.name as string), next);
    this.emit(prev ? "MODIFIED" : "ADDED", rt, next, prev);
    return next;
  }

  private newMeta(rt: ResourceType, ns: string | undefined, o: JsonObject): JsonObject {
    const meta = { ...((o.metadata as JsonObject | undefined) ?? {}) };
    if (meta.name === undefined && typeof meta.generateName === "string") {
      meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    }
    if (rt.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== ns) {
        throw new HttpError(
          400,
          "BadRequest",
          "the namespace of the object does not match the namespace on the request",
        );
      }
      meta.namespace = ns as Json;
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.resourceVersion;
    const hasSpecLike = Object.keys(o).some(
      (k) => !["apiVersion", "kind", "metadata", "status", "data", "stringData", "type"].includes(k),
    );
    if (hasSpecLike && rt.kind !== "Event" && rt.kind !== "Lease") meta.generation = 1;
    else delete meta.generation;
    return meta;
  }

  private create(
    rt: ResourceType,
    ns: string | undefined,
    body: JsonObject,
    q: Record<string, string>,
  ): JsonObject {
    const obj = structuredClone(body);
    obj.metadata = this.newMeta(rt, ns, obj);
    if (rt.status) delete obj.status;
    const meta = obj.metadata as JsonObject;
    if (this.store.has(this.key(rt, ns, meta.name as string))) {
      throw new HttpError(409, "AlreadyExists", `${rt.plural} "${meta.name}" already exists`, {
        name: meta.name as string,
        kind: rt.plural,
      });
    }
    const valid = this.validate(rt, obj);
    recordUpdate({
      before: undefined,
      after: valid,
      manager: q.fieldManager ?? "unknown",
      scope: rt.status ? "main" : "all",
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.present(rt, this.commit(rt, undefined, valid));
  }

  private precondition(rt: ResourceType, live: JsonObject, body: JsonObject): void {
    const want = (body.metadata as JsonObject | undefined)?.resourceVersion;
    const have = (live.metadata as JsonObject).resourceVersion;
    if (want !== undefined && want !== null && want !== "" && want !== have) {
      const name = (live.metadata as JsonObject).name as string;
      throw new HttpError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${rt.plural}${rt.group ? `.${rt.group}` : ""} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: rt.group, kind: rt.plural },
      );
    }
  }

  /** Combines a write's body with the live object according to the subresource written. */
  private scoped(
    rt: ResourceType,
    live: JsonObject,
    body: JsonObject,
    subresource: string | undefined,
  ): JsonObject {
    if (subresource === "status") {
      const out = structuredClone(live);
      if (body.status === undefined) delete out.status;
      else out.status = structuredClone(body.status);
      return out;
    }
    const out = structuredClone(body);
    out.metadata = { ...((body.metadata as JsonObject | undefined) ?? {}) };
    if (rt.status) {
      if (live.status === undefined) delete out.status;
      else out.status = structuredClone(live.status);
    }
    (out.metadata as JsonObject).managedFields = (live.metadata as JsonObject).managedFields ?? [];
    return out;
  }

  private scaleOf(rt: ResourceType, o: JsonObject): JsonObject {
    const meta = o.metadata as JsonObject;
    const at = (path: string | undefined) =>
      path
        ?.split(".")
        .filter(Boolean)
        .reduce<Json | undefined>((v, k) => (isObject(v) ? v[k] : undefined), o);
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
        creationTimestamp: meta.creationTimestamp,
      } as JsonObject,
      spec: { replicas: (at(rt.scale?.specReplicasPath) as number | undefined) ?? 0 },
      status: {
        replicas: (at(rt.scale?.statusReplicasPath) as number | undefined) ?? 0,
        ...(rt.scale?.labelSelectorPath && at(rt.scale.labelSelectorPath) !== undefined
          ? { selector: at(rt.scale.labelSelectorPath) as string }
          : {}),
      },
    };
  }

  private writeScale(rt: ResourceType, live: JsonObject, scale: JsonObject, manager: string): JsonObject {
    this.precondition(rt, live, scale);
    const replicas = (scale.spec as JsonObject | undefined)?.replicas;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
      throw new HttpError(422, "Invalid", "Scale.spec.replicas: must be a non-negative integer");
    }
    const next = structuredClone(live);
    const path = rt.scale!.specReplicasPath.split(".").filter(Boolean);
    let cur = next;
    for (const k of path.slice(0, -1)) {
      if (!isObject(cur[k])) cur[k] = {};
      cur = cur[k] as JsonObject;
    }
    cur[path[path.length - 1]!] = replicas;
    const valid = this.validate(rt, next);
    recordUpdate({
      before: live,
      after: valid,
      manager,
      scope: "main",
      subresource: "scale",
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.scaleOf(rt, this.commit(rt, live, valid));
  }

  private update(
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    sub: string | undefined,
    body: JsonObject,
    q: Record<string, string>,
  ): JsonObject {
    const live = this.mustGet(rt, ns, name);
    const manager = q.fieldManager ?? "unknown";
    if (sub === "scale") return this.writeScale(rt, live, body, manager);
    const bodyName = (body.metadata as JsonObject | undefined)?.name;
    if (bodyName !== undefined && bodyName !== name)
      throw new HttpError(400, "BadRequest", "the name of the object does not match the name on the URL");
    this.precondition(rt, live, body);
    const next = this.validate(rt, this.scoped(rt, live, body, sub));
    recordUpdate({
      before: live,
      after: next,
      manager,
      scope: sub === "status" ? "status" : rt.status ? "main" : "all",
      ...(sub ? { subresource: sub } : {}),
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.present(rt, this.commit(rt, live, next));
  }

  private patch(
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    sub: string | undefined,
    raw: string,
    contentType: string,
    q: Record<string, string>,
  ): JsonObject {
    const type = contentType.split(";")[0]!.trim();
    const isApply = type === "application/apply-patch+yaml" || type === "application/apply-patch+json";
    if (!isApply && q.force !== undefined) {
      throw new HttpError(
        400,
        "BadRequest",
        "force: Invalid value: force flag must be unset for non-apply patch requests",
      );
    }
    const existing = this.store.get(this.key(rt, ns, name));
    const manager = q.fieldManager;
    if (isApply) {
      if (!manager)
        throw new HttpError(400, "BadRequest", "fieldManager: Required value: is required for apply patch");
      const applied = parseYamlBody(raw);
      const am = (applied.metadata as JsonObject | undefined) ?? {};
      if (am.name !== undefined && am.name !== name)
        throw new HttpError(400, "BadRequest", "the name of the object does not match the name on the URL");
      if (typeof applied.apiVersion !== "string" || typeof applied.kind !== "string") {
        throw new HttpError(400, "BadRequest", "apiVersion and kind must be set in an apply patch");
      }
      if (applied.kind !== rt.kind && sub !== "scale")
        throw new HttpError(400, "BadRequest", `kind ${applied.kind} does not match ${rt.kind}`);
      if (existing) this.precondition(rt, existing, applied);
      if (sub === "scale") {
        if (!existing) throw this.notFound(rt, name);
        return this.writeScale(rt, existing, applied, manager);
      }
      if (!existing && sub === "status") throw this.notFound(rt, name);
      let base: JsonObject | undefined = existing;
      if (!existing) base = { metadata: this.newMeta(rt, ns, { ...applied, metadata: { ...am, name } }) };
      if (rt.status && sub !== "status") {
        delete applied.status;
      }
      const result = apply({
        live: base,
        applied,
        manager,
        force: q.force === "true",
        scope: sub === "status" ? "status" : "main",
        ...(sub ? { subresource: sub } : {}),
        apiVersion: apiVersionOf(rt),
        now: now(),
      });
      if (!result.ok) {
        const causes = result.conflicts.map((c) => ({
          reason: "FieldManagerConflict",
          message: `conflict with "${c.manager}"`,
          field: describePath(JSON.parse(c.path) as string[]),
        }));
        throw new HttpError(
          409,
          "Conflict",
          `Apply failed with ${causes.length} conflict${causes.length > 1 ? "s" : ""}: ${causes.map((c) => `${c.message}: ${c.field}`).join(", ")}`,
          { causes },
        );
      }
      const next = this.validate(rt, result.object);
      // Defaults and pruning may change what is stored; ownership stays with what the manager applied.
      (next.metadata as JsonObject).managedFields =
        (result.object.metadata as JsonObject).managedFields ?? [];
      return this.present(rt, this.commit(rt, existing, next));
    }
    if (!existing) throw this.notFound(rt, name);
    let patchBody: Json;
    try {
      patchBody = JSON.parse(raw) as Json;
    } catch {
      throw new HttpError(400, "BadRequest", "patch body is not JSON");
    }
    const base = sub === "scale" ? this.scaleOf(rt, existing) : this.present(rt, existing);
    let patched: Json;
    try {
      if (type === "application/merge-patch+json") patched = mergePatch(base, patchBody);
      else if (type === "application/strategic-merge-patch+json") {
        if (
          rt.group !== "" &&
          rt.group !== "apps" &&
          rt.group !== "policy" &&
          rt.group !== "coordination.k8s.io" &&
          rt.group !== "events.k8s.io"
        ) {
          throw new HttpError(
            415,
            "UnsupportedMediaType",
            "strategic merge patch is not supported for custom resources",
          );
        }
        patched = strategicMergePatch(base, patchBody);
      } else if (type === "application/json-patch+json") patched = jsonPatch(base, patchBody);
      else
        throw new HttpError(
          415,
          "UnsupportedMediaType",
          `the body of the request was in an unknown format: ${type}`,
        );
    } catch (e) {
      if (e instanceof PatchError) throw new HttpError(422, "Invalid", e.message);
      throw e;
    }
    if (!isObject(patched)) throw new HttpError(422, "Invalid", "patch result is not an object");
    if (sub === "scale") return this.writeScale(rt, existing, patched, manager ?? "unknown");
    this.precondition(rt, existing, patched);
    const next = this.validate(rt, this.scoped(rt, existing, patched, sub));
    recordUpdate({
      before: existing,
      after: next,
      manager: manager ?? "unknown",
      scope: sub === "status" ? "status" : rt.status ? "main" : "all",
      ...(sub ? { subresource: sub } : {}),
      apiVersion: apiVersionOf(rt),
      now: now(),
    });
    return this.present(rt, this.commit(rt, existing, next));
  }

  private notFound(rt: ResourceType, name: string): HttpError {
    return new HttpError(
      404,
      "NotFound",
      `${rt.plural}${rt.group ? `.${rt.group}` : ""} "${name}" not found`,
      { name, kind: rt.plural },
    );
  }

  private delete(
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    q: Record<string, string>,
    raw: string,
  ): JsonObject {
    const live = this.mustGet(rt, ns, name);
    const opts = raw ? (JSON.parse(raw) as JsonObject) : {};
    const pre = (opts.preconditions ?? {}) as JsonObject;
    const meta = live.metadata as JsonObject;
    if (
      (pre.uid && pre.uid !== meta.uid) ||
      (pre.resourceVersion && pre.resourceVersion !== meta.resourceVersion)
    ) {
      throw new HttpError(409, "Conflict", `Precondition failed for ${rt.plural} "${name}"`);
    }
    this.store.delete(this.key(rt, ns, name));
    this.rv++;
    const gone = structuredClone(live);
    (gone.metadata as JsonObject).resourceVersion = String(this.rv);
    this.emit("DELETED", rt, gone, undefined);
    const policy =
      q.propagationPolicy ??
      (opts.propagationPolicy as string | undefined) ??
      (q.orphanDependents === "true" ? "Orphan" : "Background");
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.collectGarbage(meta.uid as string, policy === "Orphan");
    }, this.options.gcDelayMs ?? 20);
    this.timers.add(t);
    return status(200, "", "", { name, group: rt.group, kind: rt.plural, uid: meta.uid as string });
  }

  /** Deletes (or orphans) everything that names `uid` as an owner, recursively. */
  private collectGarbage(uid: string, orphan: boolean): void {
    for (const [k, o] of [...this.store]) {
      const meta = o.metadata as JsonObject;
      const refs = (meta.ownerReferences ?? []) as JsonObject[];
      if (!refs.some((r) => r.uid === uid)) continue;
      const rt = this.types.find((t) => k.startsWith(`${t.group}/${t.plural}/`))!;
      if (orphan) {
        const next = structuredClone(o);
        (next.metadata as JsonObject).ownerReferences = refs.filter((r) => r.uid !== uid);
        this.commit(rt, o, next);
      } else if (refs.length === 1 || refs.every((r) => r.uid === uid || !this.uidExists(r.uid as string))) {
        this.delete(rt, meta.namespace as string | undefined, meta.name as string, {}, "");
      }
    }
  }

  private uidExists(uid: string): boolean {
    for (const o of this.store.values()) if ((o.metadata as JsonObject).uid === uid) return true;
    return false;
  }
}

function withoutTimes(o: JsonObject): Json {
  const c = structuredClone(o);
  const mf = ((c.metadata as JsonObject).managedFields ?? []) as JsonObject[];
  for (const e of mf) delete e.time;
  return c;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(raw: string, contentType: string | undefined): JsonObject {
  if (contentType && !contentType.startsWith("application/json") && !contentType.includes("yaml")) {
    throw new HttpError(415, "UnsupportedMediaType", `unsupported content type ${contentType}`);
  }
  const v = contentType?.includes("yaml") ? parseYamlBody(raw) : (JSON.parse(raw || "null") as Json);
  if (!isObject(v)) throw new HttpError(400, "BadRequest", "the request body must be an object");
  return v;
}

function parseYamlBody(raw: string): JsonObject {
  let v: unknown;
  try {
    v = parseYaml(raw);
  } catch (e) {
    throw new HttpError(400, "BadRequest", `yaml: ${(e as Error).message}`);
  }
  if (!isObject(v as Json)) throw new HttpError(400, "BadRequest", "the request body must be an object");
  return v as JsonObject;
}
