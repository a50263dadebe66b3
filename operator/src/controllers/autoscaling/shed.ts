// Carrying out a rebalance round: POST /admin/shed to each pod the pure rebalancer chose, with the operator's admin
// key, each bounded by a timeout. Returns one line per pod for the Rebalancing Event; never throws.
import { podAddress } from "./pod-metrics.js";
import type { ShedOrder } from "./rebalance.js";

export interface ShedRequest {
  orders: readonly ShedOrder[];
  pods: readonly { name: string; podIP: string }[];
  adminKey: string;
  /** The gateway container's internal port (/admin/* is served only there). */
  port: number;
  /** Over how long each pod spreads its reconnect notices. */
  seconds: number;
  timeoutMs: number;
  fetch: typeof fetch;
}

export async function sendShedOrders(r: ShedRequest): Promise<string[]> {
  return Promise.all(
    r.orders.map(async (order) => {
      const pod = r.pods.find((p) => p.name === order.pod);
      if (!pod) return `${order.pod}: gone`;
      try {
        const res = await r.fetch(`http://${podAddress(pod.podIP, r.port)}/admin/shed`, {
          method: "POST",
          headers: { authorization: `Bearer ${r.adminKey}`, "content-type": "application/json" },
          body: JSON.stringify({ count: order.count, seconds: r.seconds }),
          signal: AbortSignal.timeout(r.timeoutMs),
        });
        await res.body?.cancel();
        return res.ok ? `${order.pod}: ${order.count}` : `${order.pod}: HTTP ${res.status}`;
      } catch (err) {
        return `${order.pod}: ${(err as Error).message}`;
      }
    }),
  );
}
