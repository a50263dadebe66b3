// Where the Redis broker connects: parsed once from RTGW_REDIS_URL (+ RTGW_REDIS_CLUSTER) into ioredis options.
//   standalone  redis://[user:pass@]host:port[/db]   rediss://... for TLS
//   cluster     RTGW_REDIS_CLUSTER=true, the URL a comma-separated list of seeds: redis://h1:p1,redis://h2:p2
//               (credentials and TLS from the first seed)
//   sentinel    redis+sentinel://[user:pass@]s1:p1,s2:p2/<master name>   (rediss+sentinel:// for TLS to Redis)
import type { RedisOptions } from "ioredis";
import { z } from "zod";

export interface HostPort {
  host: string;
  port: number;
}

export type RedisTarget =
  | { mode: "standalone"; url: string }
  | { mode: "cluster"; seeds: HostPort[]; auth: Auth; tls: boolean }
  | { mode: "sentinel"; sentinels: HostPort[]; name: string; auth: Auth; tls: boolean };

export interface Auth {
  username?: string;
  password?: string;
}

const port = z.coerce.number().int().min(1).max(65535);

function hostPort(text: string, what: string): HostPort {
  const at = text.lastIndexOf(":");
  const host = at === -1 ? text : text.slice(0, at);
  const parsed = port.safeParse(at === -1 ? "6379" : text.slice(at + 1));
  if (host.length === 0 || !parsed.success) throw new Error(`${what}: "${text}" is not host:port`);
  return { host: host.replace(/^\[|\]$/g, ""), port: parsed.data };
}

function authOf(userinfo: string): Auth {
  if (userinfo === "") return {};
  const colon = userinfo.indexOf(":");
  const username = decodeURIComponent(colon === -1 ? "" : userinfo.slice(0, colon));
  const password = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** Parse the broker's URL; throws an Error whose message names what is wrong. */
export function parseRedisTarget(url: string, cluster: boolean): RedisTarget {
  const sentinel = /^(rediss?)\+sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/?#]+)\/?$/.exec(url);
  if (sentinel) {
    const [, scheme, userinfo, hosts, name] = sentinel as unknown as [
      string,
      string,
      string | undefined,
      string,
      string,
    ];
    return {
      mode: "sentinel",
      sentinels: hosts.split(",").map((h) => hostPort(h.trim(), "sentinel")),
      name: decodeURIComponent(name),
      auth: authOf(userinfo ?? ""),
      tls: scheme === "rediss",
    };
  }
  if (cluster) {
    const seeds = url
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (seeds.length === 0) throw new Error("cluster: no seed nodes given");
    const first = /^(rediss?):\/\/(?:([^@/]*)@)?/.exec(seeds[0] as string);
    return {
      mode: "cluster",
      seeds: seeds.map((s) =>
        hostPort(s.replace(/^rediss?:\/\/(?:[^@/]*@)?/, "").replace(/\/.*$/, ""), "cluster seed"),
      ),
      auth: authOf(first?.[2] ?? ""),
      tls: first?.[1] === "rediss",
    };
  }
  if (!/^rediss?:\/\/[^,]+$/.test(url)) {
    throw new Error(
      `"${url}" is not a redis:// or rediss:// URL (a list of seeds needs RTGW_REDIS_CLUSTER=true)`,
    );
  }
  return { mode: "standalone", url };
}

/** ioredis options for one node connection of this target (besides host/port or the URL). */
export function nodeOptions(target: RedisTarget): RedisOptions {
  if (target.mode === "standalone") return {};
  return { ...target.auth, ...(target.tls ? { tls: {} } : {}) };
}
