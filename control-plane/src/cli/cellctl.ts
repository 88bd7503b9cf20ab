import { Command } from "commander";
import { tokenCommand } from "./token-command.js";

/** cellctl: the operators' and CI's command line for the Cellwallet platform. */
export function buildCellctl(env: NodeJS.ProcessEnv): Command {
  return new Command("cellctl")
    .description("Operate the Cellwallet platform")
    .showHelpAfterError()
    .addCommand(tokenCommand(env));
}

await buildCellctl(process.env).parseAsync(process.argv);
