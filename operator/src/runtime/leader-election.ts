// Leader election on a coordination.k8s.io Lease, after client-go's leaderelection: a candidate takes the Lease
// when it is free or when its holder has not renewed it for leaseDuration (measured on OUR clock from when we last
// saw the record change, so clock skew between replicas does not matter); the leader renews every retryPeriod and
// steps down if it cannot renew within renewDeadline; every write carries the resourceVersion it read, so two
// candidates can never both win. On shutdown the leader releases the Lease so a standby takes over at once.
import { type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { sleep } from "./backoff.js";
import { apiStatusCode, isConflict, type LeaseClient } from "./kube.js";
import type { Logger } from "./log.js";

export interface LeaderElectionOptions {
  leases: LeaseClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Pick<Logger, "info" | "warn">;
  now?: () => number;
}

export const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

type LeaseSpec = NonNullable<V1Lease["spec"]>;

export class LeaderElector {
  private observed: { record: string; at: number } | undefined;
  private leaseDurationMs: number;
  private renewDeadlineMs: number;
  private retryPeriodMs: number;
  private now: () => number;
  private leading = false;
  /** The renewTime of our last successful write (our clock): the Lease is ours until it + leaseDuration. */
  private renewedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: LeaderElectionOptions) {
    this.leaseDurationMs = o.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = o.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
    this.retryPeriodMs = o.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs;
    this.now = o.now ?? Date.now;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error("leader election needs leaseDuration > renewDeadline > retryPeriod");
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until `signal` aborts. Each term runs `lead(termSignal)`; the term signal aborts when leadership is
   * lost (or on shutdown), and the next campaign starts only after `lead` returned (controllers fully stopped).
   * `release` returning false simulates a crash in tests (the Lease is left to expire).
   */
  async run(
    lead: (term: AbortSignal) => Promise<void>,
    signal: AbortSignal,
    opts: { release?: () => boolean } = {},
  ): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.tryAcquireOrRenew())) {
        await sleep(this.retryPeriodMs, signal);
        continue;
      }
      this.leading = true;
      this.o.log.info(
        { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity },
        "became leader",
      );
      const term = new AbortController();
      const running = lead(term.signal).catch((err) => {
        this.o.log.warn({ err: String(err) }, "leader work failed; stepping down");
        term.abort();
      });
      while (!signal.aborted && !term.signal.aborted) {
        await sleep(this.retryPeriodMs, signal);
        if (signal.aborted) break;
        // The deadline counts from the renewTime we last wrote, and bounds a renew that hangs as well as one
        // that fails: past it we stop acting, while the Lease still keeps everyone else out.
        const left = this.renewedAt + this.renewDeadlineMs - this.now();
        const renewed = left > 0 && (await this.renewWithin(left));
        if (!renewed && this.now() - this.renewedAt > this.renewDeadlineMs) {
          this.o.log.warn({ identity: this.o.identity }, "could not renew the Lease in time; stepping down");
          break;
        }
      }
      term.abort();
      await running;
      this.leading = false;
      if (signal.aborted && (opts.release?.() ?? true)) await this.release();
    }
  }

  /** One renew attempt, abandoned (false) when it takes longer than `ms`. */
  private async renewWithin(ms: number): Promise<boolean> {
    const gaveUp = new AbortController();
    const deadline = sleep(ms, gaveUp.signal).then(() => false);
    try {
      return await Promise.race([this.tryAcquireOrRenew(), deadline]);
    } finally {
      gaveUp.abort();
    }
  }

  /** One attempt; true when we hold the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { leases, namespace, name, identity } = this.o;
    const durationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    try {
      const lease = await leases.get(namespace, name);
      // Read the clock after the read: a record we see was written before now, so expiry is never early.
      const now = this.now();
      if (!lease) {
        await leases.create(namespace, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: new V1MicroTime(now),
            renewTime: new V1MicroTime(now),
            leaseTransitions: 0,
          },
        });
        this.observed = { record: `${identity}|${now}`, at: now };
        this.renewedAt = now;
        return true;
      }
      const spec: LeaseSpec = lease.spec ?? {};
      const record = `${spec.holderIdentity ?? ""}|${String(spec.renewTime ?? "")}|${spec.leaseTransitions ?? 0}`;
      if (!this.observed || this.observed.record !== record) this.observed = { record, at: now };
      const holder = spec.holderIdentity ?? "";
      const heldByOther = holder !== "" && holder !== identity;
      const expiresAt = this.observed.at + (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && expiresAt > now) return false;
      const next: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime:
          holder === identity && spec.acquireTime
            ? new V1MicroTime(new Date(spec.acquireTime as unknown as string).getTime())
            : new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      };
      // resourceVersion from the read: if anyone wrote in between, this is a 409 and we lost the race.
      const written = await leases.replace(namespace, name, { ...lease, spec: next });
      const w = written.spec ?? {};
      this.observed = {
        record: `${w.holderIdentity ?? ""}|${String(w.renewTime ?? "")}|${w.leaseTransitions ?? 0}`,
        at: now,
      };
      this.renewedAt = now;
      return true;
    } catch (err) {
      if (!isConflict(err))
        this.o.log.warn({ err: String(err), code: apiStatusCode(err) }, "lease attempt failed");
      return false;
    }
  }

  /** Gives the Lease up (holder cleared, duration 1s) so a standby does not wait for it to expire. */
  async release(): Promise<void> {
    try {
      const lease = await this.o.leases.get(this.o.namespace, this.o.name);
      if (!lease?.spec || lease.spec.holderIdentity !== this.o.identity) return;
      const now = new V1MicroTime(this.now());
      await this.o.leases.replace(this.o.namespace, this.o.name, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: now,
          acquireTime: now,
        },
      });
      this.o.log.info({ identity: this.o.identity }, "released the Lease");
    } catch (err) {
      this.o.log.warn({ err: String(err) }, "could not release the Lease");
    }
  }
}
