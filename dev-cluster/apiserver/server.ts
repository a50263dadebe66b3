// An in-process fake Kubernetes API server (node:http) for tests and the dev cluster. It speaks the REST + watch
// protocol closely enough that the real @kubernetes/client-node and an unmodified kubectl work against it, and
// typical controller mistakes fail the way they would on a real cluster. This file is the HTTP shell and the
// request pipeline; each concept lives in its own file (see the imports).
//
// Like a real API server:
// - discovery (/version, /api, /apis, group-version resource lists with short names, categories, status and scale
//   subresources); /openapi/v2 and /openapi/v3 with the CRDs' schemas and, for built-in kinds, the operations
//   (with the fieldValidation parameter kubectl looks for) but only a stub schema (openapi.ts);
// - namespaced CRUD, cluster-wide list/watch; one global resourceVersion bumped on every write (a write that
//   changes nothing is not a write); generation bumped only when something outside metadata/status changes;
//   409 on a stale resourceVersion (PUT, patches, /status, /scale), AlreadyExists on create (store.ts, writes.ts);
// - watches (ADDED/MODIFIED/DELETED, BOOKMARK, timeoutSeconds, selector transitions, 410 Gone before the compacted
//   window), label selectors and the field selectors each kind supports (an Event's involvedObject.*) (reads.ts);
// - Table responses (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`) for get, list and watch
//   (`kubectl get -w`): a CRD's additionalPrinterColumns, kubectl's usual columns for Deployments, Pods, Services,
//   Events and the other built-in kinds (printers.ts);
// - status and scale subresources; server-side apply with managedFields per manager, conflicts, force; merge,
//   strategic merge and JSON patches (writes.ts, ownership.ts, patch.ts);
// - graceful deletion of scheduled Pods (deletionTimestamp + deletionGracePeriodSeconds; the kubelet, i.e. the pod
//   simulator, removes them), finalizers (deletionTimestamp set, removed with the last finalizer, none may be added
//   meanwhile), owner-reference garbage collection (background, Orphan, and Foreground through the
//   foregroundDeletion finalizer) (deletion.ts);
// - CRDs registered with `registerCrd` pruned, defaulted and validated (OpenAPI + CEL), fieldValidation
//   Strict/Warn/Ignore for them; MicroTime fields; core Events need an involvedObject in their namespace;
//   Services get a cluster IP (admission.ts, defaults.ts);
// - one place where an authorizer decides every request on its attributes (request.ts: verb, group, resource,
//   namespace, name, bearer token), 401/403 on a denial (`authorizer` option, `setAuthorizer`); the dev cluster
//   and `make e2e` plug in rbac.ts: bearer-token users and RBAC over the Roles, ClusterRoles and bindings stored
//   here as rbac.authorization.k8s.io/v1 resources, so editing a Role changes what its subjects may do;
// - fault injection: the next N matching requests fail with 500/429 (+ Retry-After)/503.
//
// Not like a real API server (fidelity limits): without an authorizer (tests of the operator alone), every request
// is allowed and anonymous; with rbac.ts, authentication is a fixed token → user table (no client certificates,
// no TokenReview, no ServiceAccount token issuing);
// no admission webhooks; no built-in controllers (no Deployment -> ReplicaSet -> Pod, no endpoints, no
// ReplicaSets at all: the pod simulator plays them); no defaulting or validation of built-in kinds beyond a
// Service's cluster IP (fieldValidation finds no unknown fields in them; their OpenAPI schemas are stubs, so
// `kubectl explain` works for CRDs only); blockOwnerDeletion is not told apart (every dependent holds a foreground
// deletion); Namespaces are not deleted with their contents; events.k8s.io and core Events are separate stores
// (a real server serves one through both); strategic merge directives ($patch, $retainKeys, $setElementOrder);
// server-side apply "unset to default" semantics and list types beyond fieldset.ts's table, conflicts by exact
// path only; pagination (limit/continue ignored); aggregated discovery; protobuf (so kubectl's /openapi/v2
// fallback, protobuf only, cannot read the JSON one); resourceVersionMatch (watch-list's NotOlderThan is served
// from the current state); dry-run; deletecollection; pods/log, exec, port-forward.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { Admission, writeContext } from "./admission.js";
import { parseBody, parseDeleteOptions, readBody } from "./body.js";
import { Deletion } from "./deletion.js";
import { API_VERSIONS, groupList, resourceList, VERSION_INFO } from "./discovery.js";
import { HttpError, noSuchPath, statusBody } from "./errors.js";
import type { Json, JsonObject } from "./fieldset.js";
import { openApiV2, openApiV3Document, openApiV3Root } from "./openapi.js";
import { tableOf, wantsTable, watchTableRows } from "./printers.js";
import { listResponse, watchStream } from "./reads.js";
import { type Authorizer, denialStatus, type RequestAttributes, requestAttributes } from "./request.js";
import { type PrinterColumn, RESOURCE_TYPES, type ResourceType } from "./resources.js";
import { Store } from "./store.js";
import { Writes } from "./writes.js";

export type { Authorizer, Decision, Denial, RequestAttributes } from "./request.js";

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

type Reply = { code: number; body: Json } | "streaming";

export interface FakeApiServerOptions {
  /** How often watches with allowWatchBookmarks get a BOOKMARK. */
  bookmarkIntervalMs?: number;
  /** Delay before owner-reference garbage collection runs (it is asynchronous on a real cluster too). */
  gcDelayMs?: number;
  /** Watch events kept for resuming watches (older versions get 410 Gone). */
  historyLimit?: number;
  /** Decides every request before it is served (see `setAuthorizer`). */
  authorizer?: Authorizer;
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly store: Store;
  private readonly admission = new Admission();
  private readonly deletion: Deletion;
  private readonly writer: Writes;
  private readonly faults: Fault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private authorizer: Authorizer | undefined;
  private server: Server | undefined;
  url = "";

  constructor(private readonly options: FakeApiServerOptions = {}) {
    this.store = new Store(RESOURCE_TYPES, options.historyLimit ?? 10_000);
    this.deletion = new Deletion(this.store, options.gcDelayMs ?? 20, this.timers);
    this.writer = new Writes(this.store, this.admission, this.deletion);
    this.authorizer = options.authorizer;
  }

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

  /** Serves a CRD's kind with its subresources, printer columns, OpenAPI schema, pruning, defaults and CEL. */
  registerCrd(crd: object, opts: { validate?: boolean } = {}): void {
    const spec = (crd as { spec: JsonObject }).spec;
    const names = spec.names as JsonObject;
    for (const v of spec.versions as JsonObject[]) {
      const sub = (v.subresources ?? {}) as JsonObject;
      const schema = ((v.schema as JsonObject | undefined)?.openAPIV3Schema ?? {}) as JsonObject;
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
        categories: (names.categories as string[]) ?? [],
        printerColumns: (v.additionalPrinterColumns as unknown as PrinterColumn[] | undefined) ?? [],
        schema,
      };
      this.store.types.push(rt);
      // validate: false stands for an old CRD or disabled validation: what the operator must survive.
      if (opts.validate !== false) this.admission.addSchema(rt, schema);
    }
  }

  /** Decides every request from now on (undefined: allow all). The single hook for RBAC. */
  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  /** Drops the event history: watches resuming from any version up to now get 410 Gone. */
  compact(): void {
    this.store.compact();
  }

  /** Ends every open watch stream (as an API server restart or a load balancer timeout would). */
  closeWatches(): void {
    for (const w of [...this.store.watchers]) w.close();
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
    return this.store.rv;
  }

  /** Direct read of the store (a deep copy), for assertions. */
  get(apiVersion: string, kind: string, namespace: string, name: string): JsonObject | undefined {
    const rt = this.store.typeByKind(apiVersion, kind);
    const o = this.store.find(rt, namespace, name);
    return o ? this.store.present(rt, o) : undefined;
  }

  list(apiVersion: string, kind: string, namespace?: string): JsonObject[] {
    const rt = this.store.typeByKind(apiVersion, kind);
    return this.store.objectsOf(rt, namespace).map((o) => this.store.present(rt, o));
  }

  // ---- the request pipeline: record, read, inject faults, authorize, serve ----------------------------------

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
    const warnings: string[] = [];
    const send = (code: number, body: Json, headers: Record<string, string> = {}) => {
      record.status = code;
      const warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ");
      res.writeHead(code, {
        "content-type": "application/json",
        ...(warning ? { warning } : {}),
        ...headers,
      });
      res.end(JSON.stringify(body));
    };
    try {
      const body = await readBody(req);
      const fault = this.faults.find((f) => f.remaining > 0 && f.match(record));
      if (fault) {
        fault.remaining--;
        const reason = fault.status === 429 ? "TooManyRequests" : "InternalError";
        send(
          fault.status,
          statusBody(fault.status, reason, "injected fault"),
          fault.status === 429 ? { "retry-after": "1" } : {},
        );
        return;
      }
      const attrs = requestAttributes(record.method, record.path, query, req.headers.authorization);
      const decision = this.authorizer?.(attrs) ?? { allowed: true };
      if (!decision.allowed) {
        const { code, reason } = denialStatus(decision);
        send(code, statusBody(code, reason, decision.message));
        return;
      }
      const out = attrs.resourceRequest
        ? this.serveResource(attrs, record, body, req, res, warnings)
        : this.serveNonResource(attrs);
      if (out !== "streaming") send(out.code, out.body);
    } catch (e) {
      if (e instanceof HttpError) send(e.code, statusBody(e.code, e.reason, e.message, e.details));
      else send(500, statusBody(500, "InternalError", String((e as Error).stack ?? e)));
    }
  }

  /** Discovery, OpenAPI and /version. */
  private serveNonResource(a: RequestAttributes): Reply {
    if (a.verb !== "get")
      throw new HttpError(405, "MethodNotAllowed", `${a.verb} is not allowed on ${a.path}`);
    const parts = a.path.split("/").filter(Boolean);
    const types = this.store.types;
    if (a.path === "/version") return { code: 200, body: VERSION_INFO };
    if (a.path === "/api") return { code: 200, body: API_VERSIONS };
    if (a.path === "/apis") return { code: 200, body: groupList(types) };
    if (parts[0] === "api" && parts.length === 2)
      return { code: 200, body: resourceList(types, "", parts[1]!) };
    if (parts[0] === "apis" && parts.length === 3)
      return { code: 200, body: resourceList(types, parts[1]!, parts[2]!) };
    if (a.path === "/openapi/v2") return { code: 200, body: openApiV2(types) };
    if (a.path === "/openapi/v3") return { code: 200, body: openApiV3Root(types) };
    if (parts[0] === "openapi" && parts[1] === "v3") {
      const doc = openApiV3Document(types, parts.slice(2).join("/"));
      if (doc) return { code: 200, body: doc };
    }
    throw noSuchPath(a.path);
  }

  private serveResource(
    a: RequestAttributes,
    r: RequestRecord,
    rawBody: string,
    req: IncomingMessage,
    res: ServerResponse,
    warnings: string[],
  ): Reply {
    const rt = this.store.types.find(
      (t) => t.group === a.group && t.version === a.version && t.plural === a.resource,
    );
    if (!rt) throw noSuchPath(a.path);
    // A Namespace's own path names it as its namespace (request.ts); cluster-scoped kinds are looked up without one.
    const ns = a.namespace === "" || !rt.namespaced ? undefined : a.namespace;
    const contentType = req.headers["content-type"];
    const table = wantsTable(req.headers.accept);
    const ctx = () => writeContext(r.query, warnings);
    if (a.verb === "watch") {
      // `?watch=1` on one object's path watches that object, as the metadata.name field selector would.
      const byName = [r.query.fieldSelector, `metadata.name=${a.name}`].filter(Boolean).join(",");
      const q = a.name === "" ? r.query : { ...r.query, fieldSelector: byName };
      const interval = this.options.bookmarkIntervalMs ?? 1000;
      const render = table ? watchTableRows(rt, q, table) : undefined;
      watchStream(this.store, rt, ns, q, res, interval, render);
      return "streaming";
    }
    if (a.name === "") {
      if (a.verb === "list") {
        const list = listResponse(this.store, rt, ns, r.query);
        return { code: 200, body: table ? tableOf(rt, list, r.query, table) : list };
      }
      if (a.verb === "create") {
        if (!ns && rt.namespaced) throw new HttpError(405, "MethodNotAllowed", "create needs a namespace");
        return {
          code: 201,
          body: this.writer.create(rt, ns, parseBody(rawBody, contentType), r.query, ctx()),
        };
      }
      throw new HttpError(405, "MethodNotAllowed", `${r.method} is not supported on a collection`);
    }
    const sub = a.subresource === "" ? undefined : a.subresource;
    if (sub !== undefined && sub !== "status" && sub !== "scale")
      throw new HttpError(404, "NotFound", `no subresource ${sub}`);
    if (sub === "status" && !rt.status) throw new HttpError(404, "NotFound", `${rt.plural} has no status`);
    if (sub === "scale" && !rt.scale) throw new HttpError(404, "NotFound", `${rt.plural} has no scale`);
    switch (a.verb) {
      case "get": {
        const o = this.store.mustGet(rt, ns, a.name);
        if (sub === "scale") return { code: 200, body: this.writer.scaleOf(rt, o) };
        const obj = this.store.present(rt, o);
        return { code: 200, body: table && !sub ? tableOf(rt, obj, r.query, table) : obj };
      }
      case "update":
        return {
          code: 200,
          body: this.writer.update(rt, ns, a.name, sub, parseBody(rawBody, contentType), r.query, ctx()),
        };
      case "patch":
        return {
          code: 200,
          body: this.writer.patch(rt, ns, a.name, sub, rawBody, contentType ?? "", r.query, ctx()),
        };
      case "delete":
        return {
          code: 200,
          body: this.deletion.delete(rt, ns, a.name, r.query, parseDeleteOptions(rawBody)),
        };
      default:
        throw new HttpError(405, "MethodNotAllowed", `${r.method} not allowed`);
    }
  }
}
