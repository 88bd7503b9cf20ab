import { Command, Option } from "commander";
import { capacityCommand } from "./capacity-command.js";
import { runCommand } from "./run-cli.js";
import { BUILTIN_SCENARIOS } from "./scenarios/builtin.js";

/**
 * cellload: load tests of a running Cellwallet router or cell. Exit status:
 * 0 passed, 99 a threshold failed, 1 --verify found a discrepancy (or an
 * unexpected error), 2 usage error or target unreachable at the start, 130 a
 * run stopped by Ctrl-C (interrupt.ts).
 */
export const EXIT_USAGE = 2;

function scenariosCommand(): Command {
  return new Command("scenarios")
    .description("List the built-in scenarios, one line each")
    .addHelpText("after", "\nExamples:\n  $ cellload scenarios")
    .action(() => {
      const width = Math.max(...BUILTIN_SCENARIOS.map((s) => s.name.length));
      for (const s of BUILTIN_SCENARIOS)
        process.stdout.write(`${s.name.padEnd(width)}  ${s.money ? "[money] " : "        "}${s.description}\n`);
    });
}

export function buildCellload(env: NodeJS.ProcessEnv): Command {
  const program = new Command("cellload")
    .description(
      "Load tests per cell for Cellwallet: open/closed-model executors, k6-style thresholds, books checked after the run",
    )
    .addCommand(runCommand(env))
    .addCommand(scenariosCommand())
    .addCommand(capacityCommand(env))
    .addOption(new Option("--no-color").hideHelp())
    .addHelpText(
      "after",
      `
Exit status: 0 passed, 99 a threshold failed, 1 --verify found a discrepancy (even if a threshold failed too),
2 usage error or target unreachable, 130 run interrupted (its summary and books check still done).

Examples:
  $ cellload scenarios
  $ cellload run journey --target http://127.0.0.1:8080 --rate 100 --duration 20s --out ./load-report
  $ cellload run deposit --target http://127.0.0.1:8080 --cell cell-2 --rate 200/s --threshold 'http_req_duration{op:deposit}:p(99)<100'
  $ cellload capacity --target http://127.0.0.1:8080 --cell cell-1 --slo 'p(99)<100' --max-error 0.001`,
    );
  const quiet = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeErr: (s) => process.stderr.write(s.startsWith("error:") ? `cellload: ${s.slice(7)}` : s),
    });
    for (const sub of cmd.commands) quiet(sub);
  };
  quiet(program);
  return program;
}
