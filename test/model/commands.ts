// The model's operations as fast-check commands: what each may do given the model's view of the fleet (check),
// and what it does to the real one (run). The model state is small (which gateways run, Redis up, replication
// link, who subscribes where); the promises are judged after the run from the log (fleet-world.ts). Faults come
// in named groups so a configuration can enable some of them (see FAULTS in delivery.model.test.ts).
import fc from "fast-check";
import { sleep } from "../../test-support/wait.js";
import type { GatewayState, Run } from "./fleet-world.js";

export const FAULT_GROUPS = ["kill", "drain", "redis-restart", "failover", "expiry", "stall"] as const;
export type FaultGroup = (typeof FAULT_GROUPS)[number];

export interface Shape {
  gateways: number;
  clients: number;
  channels: number;
  faults: ReadonlySet<FaultGroup>;
}

export interface Model {
  gateways: GatewayState[];
  redis: "up" | "down";
  link: "up" | "cut";
  subscribed: boolean[][];
}

/** Each run starts with every client subscribed to two channels (its own and the next), so there is traffic. */
export function initialSubscriptions(shape: Shape): Array<[client: number, channel: number]> {
  return Array.from({ length: shape.clients }).flatMap((_, c) => [
    [c, c % shape.channels] as [number, number],
    [c, (c + 1) % shape.channels] as [number, number],
  ]);
}

export function initialModel(shape: Shape): Model {
  const subscribed = Array.from({ length: shape.clients }, () =>
    Array.from({ length: shape.channels }, () => false),
  );
  for (const [c, ch] of initialSubscriptions(shape)) (subscribed[c] as boolean[])[ch] = true;
  return {
    gateways: Array.from({ length: shape.gateways }, () => "up"),
    redis: "up",
    link: "up",
    subscribed,
  };
}

type Command = fc.AsyncCommand<Model, Run>;
const upCount = (m: Model) => m.gateways.filter((g) => g === "up").length;

class HttpPublish implements Command {
  constructor(
    readonly slot: number,
    readonly channel: number,
    readonly count: number,
  ) {}
  check = (m: Model) => m.gateways[this.slot] === "up";
  async run(_m: Model, r: Run) {
    for (let i = 0; i < this.count; i++) await r.httpPublish(this.slot, this.channel);
  }
  toString = () => `httpPublish(gw${this.slot}, ch${this.channel}, x${this.count})`;
}

class ClientPublish implements Command {
  constructor(
    readonly client: number,
    readonly channel: number,
    readonly count: number,
  ) {}
  check = () => true;
  async run(_m: Model, r: Run) {
    for (let i = 0; i < this.count; i++) await r.clientPublish(this.client, this.channel);
  }
  toString = () => `clientPublish(c${this.client}, ch${this.channel}, x${this.count})`;
}

type Since = "none" | "resume" | "behind" | "behind-no-epoch";

class Subscribe implements Command {
  constructor(
    readonly client: number,
    readonly channel: number,
    readonly since: Since,
    /** Wait (up to 3 s) for `ready` before the next command, or go on at once (a subscribe racing what follows). */
    readonly wait: boolean,
  ) {}
  check = (m: Model) => m.subscribed[this.client]?.[this.channel] === false;
  async run(m: Model, r: Run) {
    (m.subscribed[this.client] as boolean[])[this.channel] = true;
    await r.subscribe(this.client, this.channel, this.since, this.wait);
  }
  toString = () =>
    `subscribe(c${this.client}, ch${this.channel}, since=${this.since}${this.wait ? "" : ", no wait"})`;
}

class Unsubscribe implements Command {
  constructor(
    readonly client: number,
    readonly channel: number,
  ) {}
  check = (m: Model) => m.subscribed[this.client]?.[this.channel] === true;
  async run(m: Model, r: Run) {
    (m.subscribed[this.client] as boolean[])[this.channel] = false;
    r.unsubscribe(this.client, this.channel);
  }
  toString = () => `unsubscribe(c${this.client}, ch${this.channel})`;
}

class Reconnect implements Command {
  constructor(
    readonly client: number,
    readonly slot: number,
  ) {}
  check = (m: Model) => m.gateways[this.slot] === "up";
  async run(_m: Model, r: Run) {
    r.reconnect(this.client, this.slot);
  }
  toString = () => `reconnect(c${this.client} -> gw${this.slot})`;
}

class ReconnectAll implements Command {
  check = () => true;
  async run(_m: Model, r: Run) {
    r.reconnectAll();
  }
  toString = () => "reconnect(all clients)";
}

/** A short pause: where it falls decides which side of a race (a subscribe's history read, a fault) goes first. */
class Pause implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run() {
    await sleep(this.ms);
  }
  toString = () => `pause(${this.ms} ms)`;
}

// ---- faults --------------------------------------------------------------------------------------------------

class KillGateway implements Command {
  constructor(readonly slot: number) {}
  check = (m: Model) => m.gateways[this.slot] === "up" && upCount(m) >= 2;
  async run(m: Model, r: Run) {
    m.gateways[this.slot] = "down";
    r.count("gateway SIGKILL");
    await r.fleet.kill(this.slot);
  }
  toString = () => `SIGKILL(gw${this.slot})`;
}

class DrainGateway implements Command {
  constructor(readonly slot: number) {}
  check = (m: Model) => m.gateways[this.slot] === "up" && upCount(m) >= 2;
  async run(m: Model, r: Run) {
    m.gateways[this.slot] = "draining";
    r.count("gateway drain");
    r.fleet.drain(this.slot);
  }
  toString = () => `SIGTERM drain(gw${this.slot})`;
}

class StartGateway implements Command {
  constructor(readonly slot: number) {}
  check = (m: Model) => m.gateways[this.slot] !== "up" && m.redis === "up";
  async run(m: Model, r: Run) {
    m.gateways[this.slot] = "up";
    await r.fleet.start(this.slot);
  }
  toString = () => `start(gw${this.slot})`;
}

/**
 * A fault that renews every channel's epoch. The era moves on once the gateways can reach only the new server;
 * the command does not wait for them to restore, so what follows races their recovery.
 */
async function epochFault(r: Run, fault: () => Promise<void>): Promise<void> {
  r.settled = false;
  try {
    await fault();
    r.era += 1;
  } finally {
    r.settled = true;
  }
}

class RedisCrash implements Command {
  check = (m: Model) => m.redis === "up";
  async run(m: Model, r: Run) {
    m.redis = "down";
    m.link = "cut";
    r.settled = false;
    r.count("redis crash");
    await r.fleet.redis.crash();
  }
  toString = () => "redis SIGKILL";
}

class RedisRestartEmpty implements Command {
  check = (m: Model) => m.redis === "down";
  async run(m: Model, r: Run) {
    m.redis = "up";
    m.link = "up";
    await epochFault(r, () => r.fleet.redis.restartEmpty());
  }
  toString = () => "redis restarted empty";
}

class CutReplication implements Command {
  check = (m: Model) => m.redis === "up" && m.link === "up";
  async run(m: Model, r: Run) {
    m.link = "cut";
    r.count("replication cut");
    r.fleet.redis.cutReplication();
  }
  toString = () => "replication link cut (writes now on the master only)";
}

class Failover implements Command {
  check = (m: Model) => m.redis === "up";
  async run(m: Model, r: Run) {
    m.link = "up";
    r.count("failover");
    await epochFault(r, () => r.fleet.redis.failover());
  }
  toString = () => "failover: master SIGKILLed, replica promoted";
}

class ExpireChannel implements Command {
  constructor(readonly channel: number) {}
  check = (m: Model) => m.redis === "up";
  async run(_m: Model, r: Run) {
    await r.expire(this.channel);
  }
  toString = () => `expire(ch${this.channel}) (its keys deleted, as by their TTL)`;
}

class Stall implements Command {
  constructor(readonly client: number) {}
  check = (m: Model) => m.redis === "up" && upCount(m) >= 1;
  async run(_m: Model, r: Run) {
    await r.stall(this.client);
  }
  toString = () => `stall(c${this.client}) until closed as a slow consumer`;
}

/** No command may take longer than this (each of its steps is bounded; this catches what is not). */
const COMMAND_TIMEOUT_MS = 60_000;

function bounded(command: Command): Command {
  return {
    check: (m) => command.check(m),
    async run(m, r) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${command} took longer than ${COMMAND_TIMEOUT_MS} ms`)),
          COMMAND_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([command.run(m, r), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    toString: () => String(command),
  };
}

/** Every command the shape allows; publishes weigh most, faults only if their group is enabled. */
export function commandArbitraries(shape: Shape): fc.Arbitrary<Command>[] {
  return allowedCommands(shape).map((arb) => arb.map(bounded));
}

function allowedCommands(shape: Shape): fc.Arbitrary<Command>[] {
  const slot = fc.nat(shape.gateways - 1);
  const client = fc.nat(shape.clients - 1);
  const channel = fc.nat(shape.channels - 1);
  const count = fc.integer({ min: 1, max: 5 });
  const since = fc.constantFrom<Since>("none", "none", "resume", "behind", "behind-no-epoch");
  const httpPublish = fc.tuple(slot, channel, count).map(([s, ch, n]) => new HttpPublish(s, ch, n));
  const clientPublish = fc.tuple(client, channel, count).map(([c, ch, n]) => new ClientPublish(c, ch, n));
  const arbs: fc.Arbitrary<Command>[] = [
    httpPublish,
    httpPublish,
    httpPublish,
    clientPublish,
    clientPublish,
    fc.tuple(client, channel, since, fc.boolean()).map(([c, ch, s, w]) => new Subscribe(c, ch, s, w)),
    fc.tuple(client, channel, since, fc.boolean()).map(([c, ch, s, w]) => new Subscribe(c, ch, s, w)),
    fc.tuple(client, channel).map(([c, ch]) => new Unsubscribe(c, ch)),
    fc.tuple(client, slot).map(([c, s]) => new Reconnect(c, s)),
    fc.constant(new ReconnectAll()),
    fc.constantFrom(1, 3, 10, 30, 100).map((ms) => new Pause(ms)),
  ];
  const f = shape.faults;
  if (f.has("kill")) arbs.push(slot.map((s) => new KillGateway(s)));
  if (f.has("drain")) arbs.push(slot.map((s) => new DrainGateway(s)));
  if (f.has("kill") || f.has("drain")) arbs.push(slot.map((s) => new StartGateway(s)));
  if (f.has("redis-restart")) arbs.push(fc.constant(new RedisCrash()), fc.constant(new RedisRestartEmpty()));
  if (f.has("failover")) arbs.push(fc.constant(new CutReplication()), fc.constant(new Failover()));
  if (f.has("expiry")) arbs.push(channel.map((ch) => new ExpireChannel(ch)));
  if (f.has("stall")) arbs.push(client.map((c) => new Stall(c)));
  return arbs;
}
