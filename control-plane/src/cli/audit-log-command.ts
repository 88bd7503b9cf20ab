import { Command } from "commander";
import { OperatorLogVerifier, type OperatorRecord } from "../audit/operator-log.js";
import { openOperatorLogFromEnv } from "./cli-env.js";
import { nonNegativeInt } from "./cli-options.js";
import { printJson } from "./output.js";

/**
 * `cellctl audit-log`: prints the operators' audit trail and verifies its hash
 * chain. Exit 0 intact, 1 tampered (first invalid record named).
 */
export function auditLogCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("audit-log")
    .description("Print and verify the operators' tamper-evident audit trail")
    .option("--json", "print records and the verification as JSON")
    .option("--tail <n>", "print only the last n records (all are verified; 0: verify only)", nonNegativeInt)
    .addHelpText(
      "after",
      `
Exit status: 0 the trail is intact, 1 tampered (the first invalid record is named), 2 usage or the trail
cannot be read (the placement registry cannot be opened, or there is none where WALLET_DATA_DIR or
PLACEMENT_SQLITE_PATH point: it is never created here).

Examples:
  $ cellctl audit-log --tail 20
  $ cellctl audit-log --json`,
    )
    .action(async (options: { json?: boolean; tail?: number }) => {
      const log = openOperatorLogFromEnv(env);
      const verifier = new OperatorLogVerifier();
      const records: OperatorRecord[] = [];
      try {
        for await (const record of log.stream()) {
          verifier.add(record);
          records.push(record);
          if (options.tail !== undefined && records.length > options.tail) records.shift();
        }
      } finally {
        await log.close();
      }
      const result = verifier.result();
      if (options.json) {
        printJson({ verification: result, records });
      } else {
        const lines = ["SEQ    AT                        ACTOR            ACTION              TARGET"];
        for (const r of records) {
          lines.push(
            `${String(r.sequence).padEnd(6)} ${r.at.padEnd(25)} ${r.actor.padEnd(16)} ${r.action.padEnd(19)} ${r.target}`,
          );
        }
        lines.push(
          result.valid
            ? `VALID: ${result.records} records, head ${result.headHash.slice(0, 16)}`
            : `INVALID at record ${result.firstInvalidSequence}: ${result.reason}`,
        );
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (!result.valid) process.exitCode = 1;
    });
}
