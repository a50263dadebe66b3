import { Command } from "commander";

// Placeholder until the load tools land (issue 7).
export function loadCommand(): Command {
  return new Command("load").description("generate WebSocket load against gateways");
}
export function benchCommand(): Command {
  return new Command("bench").description("benchmark the gateway beside Socket.IO and bare uWS.js");
}
