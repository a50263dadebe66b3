// Request/ack correlation: every request frame carries an id; the gateway's ack, error or pong carries
// it back. Pure: the caller passes the clock and owns the single timer that calls expire().

export interface PendingRequest<K extends string, C> {
  id: number;
  kind: K;
  /** Wall-clock ms after which the request is given up. */
  deadline: number;
  context: C;
}

export class PendingRequests<K extends string, C> {
  readonly #byId = new Map<number, PendingRequest<K, C>>();
  #nextId = 1;

  get size(): number {
    return this.#byId.size;
  }

  /** Register a request and return its id (unique for this tracker's lifetime). */
  add(kind: K, deadline: number, context: C): number {
    const id = this.#nextId;
    this.#nextId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    this.#byId.set(id, { id, kind, deadline, context });
    return id;
  }

  /** The answer for `id` arrived: remove and return the request (undefined if unknown or already settled). */
  settle(id: number): PendingRequest<K, C> | undefined {
    const request = this.#byId.get(id);
    if (request) this.#byId.delete(id);
    return request;
  }

  /** Remove and return every request whose deadline is at or before `now`, oldest deadline first. */
  expire(now: number): PendingRequest<K, C>[] {
    const expired: PendingRequest<K, C>[] = [];
    for (const request of this.#byId.values()) if (request.deadline <= now) expired.push(request);
    for (const request of expired) this.#byId.delete(request.id);
    return expired.sort((a, b) => a.deadline - b.deadline);
  }

  /** When the caller's timer should next call expire(). */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const request of this.#byId.values())
      if (next === undefined || request.deadline < next) next = request.deadline;
    return next;
  }

  /** Every request that matches, in id order, left in place. */
  filter(predicate: (request: PendingRequest<K, C>) => boolean): PendingRequest<K, C>[] {
    return [...this.#byId.values()].filter(predicate);
  }

  /** Remove and return every request that matches (all when no predicate), e.g. when the socket drops. */
  takeAll(predicate: (request: PendingRequest<K, C>) => boolean = () => true): PendingRequest<K, C>[] {
    const taken: PendingRequest<K, C>[] = [];
    for (const request of this.#byId.values()) if (predicate(request)) taken.push(request);
    for (const request of taken) this.#byId.delete(request.id);
    return taken;
  }
}
