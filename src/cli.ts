#!/usr/bin/env node
// `rtgw`: one CLI for every part of the platform. Each subcommand lives with its concept.
import { Command } from "commander";
import { gatewayCommand } from "../gateway/src/command.js";
import { benchCommand, loadCommand } from "../loadtest/src/command.js";
import { crdCommand, operatorCommand } from "../operator/src/command.js";

const program = new Command("rtgw")
  .description("realtime-gateway: WebSocket gateway, its Kubernetes operator, and load tools")
  .addCommand(gatewayCommand())
  .addCommand(operatorCommand())
  .addCommand(crdCommand())
  .addCommand(loadCommand())
  .addCommand(benchCommand());

await program.parseAsync(process.argv);
