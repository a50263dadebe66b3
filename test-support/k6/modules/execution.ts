// "k6/execution": the VU's and its scenario's identity. Only the fields loadtest/k6/ reads exist; any other field
// throws (k6 has more: instance, test, vu.tags, scenario.progress...).
import type { VirtualUser } from "../vu.js";
import { strict } from "./strict.js";

export function executionModule(vu: VirtualUser): Record<string, unknown> {
  const scenario = () => {
    if (!vu.scenario) throw new Error("exec.scenario is not available in the init context");
    return vu.scenario;
  };
  const vuInfo = strict("exec.vu", {
    get idInTest() {
      return vu.id;
    },
    get idInInstance() {
      return vu.id;
    },
    get iterationInInstance() {
      return vu.iterationInInstance;
    },
    get iterationInScenario() {
      return vu.iterationInScenario;
    },
  });
  const scenarioInfo = strict("exec.scenario", {
    get name() {
      return scenario().name;
    },
    get executor() {
      return scenario().options.executor;
    },
    get startTime() {
      return scenario().startTime;
    },
    get iterationInTest() {
      scenario();
      return vu.iterationInTest;
    },
  });
  return { default: strict("exec", { vu: vuInfo, scenario: scenarioInfo }) };
}
