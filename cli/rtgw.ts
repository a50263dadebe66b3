#!/usr/bin/env node
// `rtgw`: one CLI for every part of the platform. Each family of subcommands has its file here (cli/), which
// parses its flags with the shared rules (config/) and imports the part it runs only when it runs.
import { Command, CommanderError } from "commander";
import { devClusterCommand } from "./dev-cluster.js";
import { gatewayCommand } from "./gateway.js";
import { benchCommand, loadCommand } from "./load.js";
import { crdCommand, operatorCommand } from "./operator.js";

const program = new Command("rtgw")
  .description("realtime-gateway: WebSocket gateway, its Kubernetes operator, and load tools")
  // Each command's options follow its own name (`rtgw bench box --json x` is box's, so a usage error).
  .enablePositionalOptions()
  .addCommand(gatewayCommand())
  .addCommand(operatorCommand())
  .addCommand(crdCommand())
  .addCommand(loadCommand())
  .addCommand(benchCommand())
  .addCommand(devClusterCommand());

// A usage error (unknown flag, missing value, unknown command) exits 2 like a bad flag value does in the
// subcommands' schemas; help exits 0. addCommand does not pass exitOverride down, so set it on each command.
const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];
for (const command of everyCommand(program)) command.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exit(error.exitCode === 0 ? 0 : 2);
}
