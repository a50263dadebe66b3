// Lists and watch streams: label and field selectors, the list's resourceVersion, resuming a watch from the
// history (410 Gone as an ERROR event before the compacted window), watch-list (sendInitialEvents: the current
// objects, then a BOOKMARK marked k8s.io/initial-events-end), BOOKMARKs, timeoutSeconds, and selector transitions
// (an object leaving the selector is DELETED for that watcher).
import type { ServerResponse } from "node:http";
import { HttpError, statusBody } from "./errors.js";
import { type FieldRequirement, matchesFields, parseFieldSelector } from "./field-selector.js";
import type { JsonObject } from "./fieldset.js";
import { apiVersionOf, type ResourceType } from "./resources.js";
import { matchesLabels, parseLabelSelector, type Requirement } from "./selector.js";
import type { Store, Watcher } from "./store.js";

export interface Selection {
  labels: Requirement[];
  fields: FieldRequirement[];
}

export function selection(rt: ResourceType, q: Record<string, string>): Selection {
  try {
    return { labels: parseLabelSelector(q.labelSelector), fields: parseFieldSelector(rt, q.fieldSelector) };
  } catch (e) {
    throw new HttpError(400, "BadRequest", (e as Error).message);
  }
}

export function selects(s: Selection, o: JsonObject): boolean {
  const meta = o.metadata as JsonObject;
  return (
    matchesLabels(s.labels, meta.labels as Record<string, string> | undefined) && matchesFields(s.fields, o)
  );
}

/** A list as the real server sends it: the list resourceVersion, items without kind/apiVersion. */
export function listResponse(
  store: Store,
  rt: ResourceType,
  ns: string | undefined,
  q: Record<string, string>,
): JsonObject {
  const s = selection(rt, q);
  return {
    kind: `${rt.kind}List`,
    apiVersion: apiVersionOf(rt),
    metadata: { resourceVersion: String(store.rv) },
    items: store
      .objectsOf(rt, ns)
      .filter((o) => selects(s, o))
      .map((o) => structuredClone(o)),
  };
}

export function watchStream(
  store: Store,
  rt: ResourceType,
  ns: string | undefined,
  q: Record<string, string>,
  res: ServerResponse,
  bookmarkIntervalMs: number,
  /** How an object is sent (a Table row for `kubectl get -w`); as stored by default. */
  render: (o: JsonObject) => JsonObject = (o) => o,
): void {
  const s = selection(rt, q);
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  const write = (type: string, object: JsonObject) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const requested = q.resourceVersion;
  const fromRv = requested && requested !== "0" ? Number(requested) : undefined;
  if (fromRv !== undefined && (Number.isNaN(fromRv) || fromRv < store.compactedRv)) {
    write(
      "ERROR",
      statusBody(410, "Expired", `too old resource version: ${requested} (${store.compactedRv})`),
    );
    res.end();
    return;
  }
  const watcher: Watcher = {
    rt,
    namespace: rt.namespaced ? ns : undefined,
    send: (ev) => {
      const now = selects(s, ev.object);
      const before = ev.previous !== undefined && selects(s, ev.previous);
      let type: string | undefined = ev.type;
      if (ev.type === "MODIFIED")
        type = now && before ? "MODIFIED" : now ? "ADDED" : before ? "DELETED" : undefined;
      else if (!now) type = undefined;
      if (type) write(type, render(store.present(rt, ev.object)));
    },
    close: () => {
      cleanup();
      res.end();
    },
  };
  const timers: NodeJS.Timeout[] = [];
  const cleanup = () => {
    store.watchers.delete(watcher);
    for (const t of timers) clearInterval(t);
  };
  res.on("close", cleanup);
  const bookmark = (annotations?: JsonObject) =>
    write("BOOKMARK", {
      kind: rt.kind,
      apiVersion: apiVersionOf(rt),
      metadata: { resourceVersion: String(store.rv), ...(annotations ? { annotations } : {}) },
    });
  const initial = q.sendInitialEvents === "true";
  if (fromRv === undefined || initial) {
    for (const o of store.objectsOf(rt, watcher.namespace))
      if (selects(s, o)) write("ADDED", render(store.present(rt, o)));
    // A watch-list (client-go's WatchListClient, kubectl wait) learns the initial state is complete from this.
    if (initial) bookmark({ "k8s.io/initial-events-end": "true" });
  } else {
    for (const ev of store.log) if (ev.rv > fromRv && store.eventFor(watcher, ev)) watcher.send(ev);
  }
  store.watchers.add(watcher);
  if (q.allowWatchBookmarks === "true") {
    timers.push(setInterval(() => bookmark(), bookmarkIntervalMs));
  }
  if (q.timeoutSeconds) timers.push(setTimeout(() => watcher.close(), Number(q.timeoutSeconds) * 1000));
}
