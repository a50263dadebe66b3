// A list + watch cache for one resource: list, then watch from the list's resourceVersion; a watch that ends
// cleanly resumes from the last version seen (bookmarks included); 410 Gone re-lists and reports what changed
// meanwhile as adds, updates and deletes, so no change is missed; other failures back off exponentially.
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF, sleep } from "./backoff.js";
import { apiStatusCode, type KubeObject, type ListWatchClient, type ResourceRef } from "./kube.js";

export type InformerEvent = "add" | "update" | "delete";

export interface InformerOptions {
  client: ListWatchClient;
  resource: ResourceRef;
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  /** Reduces what is cached (e.g. Secrets keep their key names, never their values). */
  transform?: (o: KubeObject) => KubeObject;
  onEvent: (type: InformerEvent, obj: KubeObject) => void;
  onError?: (err: unknown, phase: "list" | "watch") => void;
  backoff?: BackoffPolicy;
}

const key = (ns: string | undefined, name: string) => `${ns ?? ""}/${name}`;

export class Informer {
  private readonly cache = new Map<string, KubeObject>();
  private resourceVersion = "";
  private stopWatch: (() => void) | undefined;
  private readonly abort = new AbortController();
  private synced = false;
  private loop: Promise<void> | undefined;
  /** How many times the cache was (re)built from a list: 1 + re-lists after 410 or errors. */
  lists = 0;

  constructor(private readonly o: InformerOptions) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(key(namespace, name));
  }

  list(namespace?: string): KubeObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** Records the result of our own write, so a reconcile that runs before its watch event sees it. */
  observe(obj: KubeObject): void {
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const cur = this.cache.get(k);
    if (cur && Number(cur.metadata.resourceVersion) > Number(obj.metadata.resourceVersion)) return;
    this.cache.set(k, this.o.transform ? this.o.transform(obj) : obj);
  }

  /** Drops the object our own delete removed, so a reconcile before its watch event does not delete it again. */
  forget(obj: KubeObject): void {
    this.cache.delete(key(obj.metadata.namespace, obj.metadata.name));
  }

  /** Starts the loop; resolves once the first list is in the cache (or the informer is stopped). */
  async start(): Promise<void> {
    let resolveSynced!: () => void;
    const synced = new Promise<void>((r) => {
      resolveSynced = r;
    });
    this.loop = this.run(resolveSynced);
    await Promise.race([synced, this.loop]);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.stopWatch?.();
    await this.loop;
  }

  private async run(onSynced: () => void): Promise<void> {
    let failures = 0;
    let needList = true;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (needList) {
        try {
          const { items, resourceVersion } = await this.o.client.list(
            this.o.resource,
            this.o.namespace,
            this.o.labelSelector,
          );
          this.replace(items);
          this.resourceVersion = resourceVersion;
          this.lists++;
          needList = false;
          failures = 0;
          if (!this.synced) {
            this.synced = true;
            onSynced();
          }
        } catch (err) {
          this.o.onError?.(err, "list");
          await sleep(backoffDelay(++failures, this.o.backoff ?? DEFAULT_BACKOFF), signal);
          continue;
        }
      }
      const started = Date.now();
      let events = 0;
      const err = await new Promise<unknown>((resolve) => {
        this.o.client
          .watch(
            this.o.resource,
            this.o.namespace,
            { resourceVersion: this.resourceVersion, labelSelector: this.o.labelSelector },
            (type, obj) => {
              events++;
              if (type === "ERROR") {
                const code = (obj as unknown as { code?: number }).code;
                if (code === 410) needList = true;
                else this.o.onError?.(obj, "watch");
                return;
              }
              this.handle(type, obj);
            },
            resolve,
          )
          .then((stop) => {
            this.stopWatch = stop;
            if (signal.aborted) stop();
          }, resolve);
      });
      this.stopWatch = undefined;
      if (signal.aborted) break;
      if (apiStatusCode(err) === 410) needList = true;
      if (needList) continue;
      if (err) {
        this.o.onError?.(err, "watch");
        await sleep(backoffDelay(++failures, this.o.backoff ?? DEFAULT_BACKOFF), signal);
      } else if (events === 0 && Date.now() - started < 1000) {
        // A server that ends watches at once must not turn this loop into a hot loop.
        await sleep(backoffDelay(++failures, this.o.backoff ?? DEFAULT_BACKOFF), signal);
      } else failures = 0;
    }
  }

  private handle(type: string, raw: KubeObject): void {
    const rv = raw.metadata?.resourceVersion;
    if (type === "BOOKMARK") {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const obj = this.o.transform ? this.o.transform(raw) : raw;
    const k = key(obj.metadata.namespace, obj.metadata.name);
    if (type === "DELETED") {
      this.cache.delete(k);
      this.o.onEvent("delete", obj);
    } else {
      const had = this.cache.has(k);
      this.cache.set(k, obj);
      this.o.onEvent(had ? "update" : "add", obj);
    }
    if (rv) this.resourceVersion = rv;
  }

  /** Swaps in a fresh list, reporting the difference to the handlers. */
  private replace(items: KubeObject[]): void {
    const next = new Map<string, KubeObject>();
    for (const raw of items) {
      const obj = this.o.transform ? this.o.transform(raw) : raw;
      next.set(key(obj.metadata.namespace, obj.metadata.name), obj);
    }
    const old = new Map(this.cache);
    this.cache.clear();
    for (const [k, v] of next) this.cache.set(k, v);
    for (const [k, v] of old) if (!next.has(k)) this.o.onEvent("delete", v);
    for (const [k, v] of next) {
      const prev = old.get(k);
      if (!prev) this.o.onEvent("add", v);
      else if (prev.metadata.resourceVersion !== v.metadata.resourceVersion) this.o.onEvent("update", v);
    }
  }
}
