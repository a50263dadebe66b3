// `rtgw gateway`: one gateway process, configured by RTGW_* variables only (gateway/src/config.ts); the gateway
// is imported when the command runs, so `rtgw --help` loads none of it.
import { Command } from "commander";

export function gatewayCommand(): Command {
  return new Command("gateway")
    .description("run one gateway (configured by RTGW_* environment variables)")
    .action(async () => {
      const { main } = await import("../gateway/src/main.js");
      await main();
    });
}
