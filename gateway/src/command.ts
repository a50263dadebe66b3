import { Command } from "commander";

export function gatewayCommand(): Command {
  return new Command("gateway")
    .description("run one gateway (configured by RTGW_* environment variables)")
    .action(async () => {
      const { main } = await import("./main.js");
      await main();
    });
}
