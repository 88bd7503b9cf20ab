import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { OperatorActionInput } from "../audit/operator-log.js";
import { RegistryMissingError, recordOperatorAction } from "./cli-env.js";

/** Exit status of cellctl's registry commands: 0 done (or nothing to do), 1 refused by the rules, 2 usage, unknown cell or unconfirmed. */
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

/**
 * Confirmation for a destructive-ish action: `--yes`, or "yes" typed at a
 * terminal. Without a terminal and without --yes the command stops with exit 2.
 */
export async function confirmOrExit(command: Command, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    command.error(`cellctl: ${question.replace(/\?$/, "")} needs confirmation: pass --yes in non-interactive use`, {
      exitCode: EXIT_USAGE,
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`${question} Type "yes" to continue: `);
    if (answer.trim().toLowerCase() !== "yes")
      command.error("cellctl: not confirmed, nothing changed", { exitCode: EXIT_USAGE });
  } finally {
    rl.close();
  }
}

/**
 * Records an action before it is applied (an action that cannot be recorded is
 * not applied); then applies it, recording a `.failed` action if it throws.
 */
export async function recordThenApply<T>(
  env: NodeJS.ProcessEnv,
  command: Command,
  input: OperatorActionInput,
  apply: () => Promise<T>,
): Promise<T> {
  try {
    await recordOperatorAction(env, input);
  } catch (error) {
    // No registry at all: the command could not run (2), it did not refuse anything.
    if (error instanceof RegistryMissingError)
      return command.error(`cellctl: ${error.message}`, { exitCode: EXIT_USAGE });
    return command.error(
      `cellctl: nothing changed: could not record ${input.action} in the operator audit trail: ${(error as Error).message}`,
      { exitCode: EXIT_REFUSED },
    );
  }
  try {
    return await apply();
  } catch (error) {
    const message = (error as Error).message;
    await recordOperatorAction(env, {
      ...input,
      action: `${input.action}.failed`,
      details: { ...input.details, error: message },
    }).catch(() => undefined);
    return command.error(`cellctl: ${input.action} failed: ${message}`, { exitCode: EXIT_REFUSED });
  }
}
