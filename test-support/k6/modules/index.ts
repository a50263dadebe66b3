// The k6 modules this runtime provides, by import specifier. Anything else is refused at import.
import type { VirtualUser } from "../vu.js";
import { executionModule } from "./execution.js";
import { httpModule } from "./http.js";
import { k6Module } from "./k6.js";
import { metricsModule } from "./metrics.js";
import { timersModule } from "./timers.js";
import { websocketsModule } from "./websockets.js";

export const k6Modules: Record<string, (vu: VirtualUser) => Record<string, unknown>> = {
  k6: k6Module,
  "k6/execution": executionModule,
  "k6/http": httpModule,
  "k6/metrics": metricsModule,
  "k6/timers": timersModule,
  "k6/websockets": websocketsModule,
};
