// What the real API server fills in on built-in kinds that clients see (and kubectl prints): a Service's cluster IP,
// allocated on create from 10.96.0.0/12 unless headless ("None"), and kept by updates that leave it out (the
// real server's patchAllocatedValues). Other built-in defaults are not modelled.
import type { Json, JsonObject } from "./fieldset.js";
import { isObject } from "./fieldset.js";
import type { ResourceType } from "./resources.js";

export class Defaults {
  private nextIp = 10;

  apply(rt: ResourceType, next: JsonObject, prev: JsonObject | undefined): void {
    if (rt.group !== "" || rt.kind !== "Service" || !isObject(next.spec)) return;
    const spec = next.spec;
    const before = isObject(prev?.spec) ? prev.spec : undefined;
    if (spec.clusterIP === undefined || spec.clusterIP === "") {
      if (before?.clusterIP !== undefined) {
        spec.clusterIP = before.clusterIP;
        spec.clusterIPs = (before.clusterIPs ?? [before.clusterIP]) as Json;
      } else if (spec.type !== "ExternalName") {
        spec.clusterIP = this.allocate();
        spec.clusterIPs = [spec.clusterIP];
      }
    } else if (spec.clusterIPs === undefined) {
      spec.clusterIPs = [spec.clusterIP];
    }
  }

  private allocate(): string {
    const n = this.nextIp++;
    return `10.96.${Math.floor(n / 256) % 256}.${n % 256}`;
  }
}
