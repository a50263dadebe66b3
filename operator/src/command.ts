import { Command } from "commander";

// Placeholder until the operator lands (issue 4).
export function operatorCommand(): Command {
  return new Command("operator").description("run the RealtimeGateway operator");
}
export function crdCommand(): Command {
  return new Command("crd").description("print the RealtimeGateway CustomResourceDefinition (YAML)");
}
