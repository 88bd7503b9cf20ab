import { Command } from "commander";
import { DEFAULT_LOCAL_VERSION } from "../local/local-platform-state.js";
import { assertLauncherRunning, waitApplied } from "../rollout/local-driver.js";
import { openLocalPlatformState } from "../rollout/open-rollout.js";
import { openPlacementStoreFromEnv, operatorName, recordOperatorAction } from "./cli-env.js";
import { positiveInt } from "./cli-options.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

const CELL_ID = /^[a-z0-9-]{1,40}$/;

/** What an operator runs in AWS: the infra stacks own the cell's tables, role and Deployments. */
function awsPlan(cellId: string, capacity: number): string {
  return `Creating ${cellId} in AWS is the infrastructure's job. Plan:
  1. Add the cell to the platform configuration (infra/cdk8s/src/config.ts, PlatformConfig.cells):
       { cellId: "${cellId}", requiredReplicas: 4, roleArn: "arn:aws:iam::<account>:role/cellwallet-${cellId}" }
  2. Create its tables and IAM role (CDK stack cellwallet-${cellId}):
       npm run synth:aws && npx cdk deploy cellwallet-${cellId} --app infra/aws/cdk.out
  3. Synthesize and apply its Deployments and Services, one per AZ:
       npm run synth && kubectl apply -f infra/cdk8s/dist/manifests/
  4. Register it, cordoned until its replicas are ready, then open it:
       cellctl cells register ${cellId} --capacity ${capacity} --endpoint <az>=http://cell-${cellId.replace(/^cell-/, "")}-<az>.<namespace>.svc:9000 ...
       cellctl cells cordon ${cellId} && cellctl cells describe ${cellId} && cellctl cells uncordon ${cellId}
Nothing was changed.`;
}

/** `cellctl cells create <cellId>`: locally the launcher starts the cell's processes; in AWS it prints the plan. */
export function cellsCreateCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("create")
    .description("Create a cell: locally start its processes (one per AZ) and register it; in AWS print the plan")
    .argument("<cellId>")
    .option("--target <target>", "local (default when a local platform runs in WALLET_DATA_DIR) or aws")
    .option("--capacity <users>", "the cell's user capacity", positiveInt, 100_000)
    .option("--version <version>", `the build its processes run (default ${DEFAULT_LOCAL_VERSION}, the repo's own)`)
    .option("--json", "print the created cell as JSON")
    .addHelpText(
      "after",
      `
Locally the running launcher (npm start) starts one process per AZ on the next free ports, then the
cell is registered with those endpoints and made active: new users can be placed on it at once.

Exit status: 0 created (or plan printed), 1 refused or failed (exists, launcher not running, a process
did not start), 2 usage.

Examples:
  $ cellctl cells create cell-3
  $ cellctl cells create cell-3 --capacity 50000 --json
  $ cellctl cells create cell-7 --target aws`,
    )
    .action(
      async (
        cellId: string,
        options: { target?: string; capacity: number; version?: string; json?: boolean },
        command: Command,
      ) => {
        const fail = (message: string, code = EXIT_REFUSED): never =>
          command.error(`cellctl: ${message}`, { exitCode: code });
        if (!CELL_ID.test(cellId)) fail("a cell id is 1..40 of a-z 0-9 -", EXIT_USAGE);
        if (!(Number.isInteger(options.capacity) && options.capacity > 0))
          fail("--capacity must be a positive integer", EXIT_USAGE);
        const state = options.target === "aws" ? undefined : openLocalPlatformState(env);
        if (options.target !== undefined && options.target !== "local" && options.target !== "aws") {
          fail("--target must be local or aws", EXIT_USAGE);
        }
        if (!state) {
          if (options.target === "local")
            fail(`no local platform in ${env.WALLET_DATA_DIR ?? ".data"} (npm start)`, EXIT_USAGE);
          process.stdout.write(`${awsPlan(cellId, options.capacity)}\n`);
          return;
        }
        const placement = openPlacementStoreFromEnv(env, { create: true });
        try {
          if (await placement.getCell(cellId)) fail(`cell ${cellId} already exists`);
          const version = options.version ?? DEFAULT_LOCAL_VERSION;
          if (version !== DEFAULT_LOCAL_VERSION && !state.version(version))
            fail(`unknown version ${version}`, EXIT_USAGE);
          const azs = Object.keys(state.desired().cells[0]?.versions ?? {});
          if (azs.length === 0) fail("the local platform declares no AZ");
          try {
            assertLauncherRunning(state);
          } catch (error) {
            fail((error as Error).message);
          }
          await recordOperatorAction(env, {
            actor: operatorName(env),
            action: "cell.create",
            target: cellId,
            details: { target: "local", capacity: options.capacity, version, azs },
          }).catch((error: Error) => fail(`nothing changed: could not record cell.create: ${error.message}`));
          const generation =
            state.addCell(cellId, azs, version) ?? fail(`cell ${cellId} is already declared in the local platform`);
          process.stderr.write(`starting ${cellId} in ${azs.join(", ")} ...\n`);
          await waitApplied(state, generation);
          const processes = state.observed().processes.filter((p) => p.cellId === cellId);
          const failed = processes.filter((p) => p.status !== "running");
          if (processes.length !== azs.length || failed.length > 0) {
            fail(
              `${cellId} did not start: ${failed.map((p) => `${p.az}: ${p.error ?? p.status}`).join("; ") || "not reported"}`,
            );
          }
          const cell = {
            cellId,
            state: "active" as const,
            capacity: options.capacity,
            endpoints: processes.map((p) => ({ az: p.az, url: `http://127.0.0.1:${p.port}`, weight: 1 })),
          };
          await placement.putCell(cell);
          if (options.json) {
            printJson({ ...cell, version, processes });
          } else {
            const lines = [`created ${cellId} (active, capacity ${options.capacity}, version ${version}):`];
            for (const p of processes)
              lines.push(`  ${p.az.padEnd(10)} http://127.0.0.1:${p.port}  pid ${p.pid ?? "-"}`);
            process.stdout.write(`${lines.join("\n")}\n`);
          }
        } finally {
          await placement.close();
          state.close();
        }
      },
    );
}
