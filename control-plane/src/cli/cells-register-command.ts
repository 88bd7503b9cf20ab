import type { CellEndpoint, CellRecord } from "@cellwallet/placement";
import { Command } from "commander";
import { parseEndpointOption } from "../placement/cell-operations.js";
import { operatorName, withPlacementStore } from "./cli-env.js";
import { positiveInt } from "./cli-options.js";
import { confirmOrExit, EXIT_USAGE, recordThenApply } from "./operator-prompt.js";
import { printJson } from "./output.js";

/** "az-1:1 az-2:0": each AZ's routing weight, as list and register print it. */
export function azSummary(cell: CellRecord): string {
  return cell.endpoints.map((e) => `${e.az}:${e.weight}`).join(" ") || "-";
}

export function cellsRegisterCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("register")
    .description("Create or update a cell's registry record (users are kept)")
    .argument("<cellId>")
    .option(
      "--endpoint <az=url>",
      "a replica of the cell (repeat per AZ); replaces the endpoint set, keeping known AZs' weights",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option("--capacity <n>", "most users the cell may hold", positiveInt)
    .option("-y, --yes", "confirm a --capacity below the users the cell holds (required in non-interactive use)")
    .option("--json", "print the resulting record as JSON")
    .addHelpText(
      "after",
      `
A new cell needs --endpoint and --capacity, and starts active with every AZ at weight 1.
An update keeps the state, the user count and, for AZs already registered, their weights.
A --capacity below the users the cell holds needs confirmation (--yes, or "yes" at a terminal): no
new user is placed there until it has room, its users stay (cells rebalance moves the excess away).
With cells create, token and npm start, the one command that creates a missing registry (others exit 2).

Exit status: 0 registered, 1 the record could not be written or recorded, 2 usage or a capacity below
the users not confirmed.

Examples:
  $ cellctl cells register cell-3 --capacity 10000 \\
      --endpoint az-1=http://10.0.1.10:8081 --endpoint az-2=http://10.0.2.10:8081 --endpoint az-3=http://10.0.3.10:8081
  $ cellctl cells register cell-3 --capacity 20000`,
    )
    .action(
      async (
        cellId: string,
        options: { endpoint?: string[]; capacity?: number; yes?: boolean; json?: boolean },
        command: Command,
      ) => {
        let parsed: { az: string; url: string }[] | undefined;
        try {
          parsed = options.endpoint?.map(parseEndpointOption);
        } catch (error) {
          return command.error(`cellctl: ${(error as Error).message}`, { exitCode: EXIT_USAGE });
        }
        if (parsed && new Set(parsed.map((e) => e.az)).size !== parsed.length) {
          command.error("cellctl: one --endpoint per AZ", { exitCode: EXIT_USAGE });
        }
        await withPlacementStore(
          env,
          async (store) => {
            const existing = await store.getCell(cellId);
            if (!existing && (!parsed || options.capacity === undefined)) {
              command.error(`cellctl: ${cellId} is a new cell: give --endpoint (per AZ) and --capacity`, {
                exitCode: EXIT_USAGE,
              });
            }
            const endpoints: CellEndpoint[] = parsed
              ? parsed.map((e) => ({ ...e, weight: existing?.endpoints.find((x) => x.az === e.az)?.weight ?? 1 }))
              : (existing?.endpoints ?? []);
            const next = {
              cellId,
              state: existing?.state ?? "active",
              capacity: options.capacity ?? existing?.capacity ?? 0,
              endpoints,
            } as const;
            // A typo (10 for 100000) would silently close the cell to new users: an explicit yes or nothing.
            const over = existing !== undefined && options.capacity !== undefined && options.capacity < existing.users;
            if (over) {
              await confirmOrExit(
                command,
                options.yes,
                `Set ${cellId}'s capacity to ${next.capacity}, below the ${existing.users} users it holds (no new user placed there until it has room)?`,
              );
            }
            const written = await recordThenApply(
              env,
              command,
              {
                actor: operatorName(env),
                action: "cell.register",
                target: cellId,
                details: {
                  created: !existing,
                  before: existing
                    ? { state: existing.state, capacity: existing.capacity, endpoints: existing.endpoints }
                    : null,
                  after: { state: next.state, capacity: next.capacity, endpoints: next.endpoints },
                },
              },
              () => store.putCell(next),
            );
            if (options.json)
              printJson({ created: !existing, overCapacity: written.users > written.capacity, cell: written });
            else
              process.stdout.write(
                `${existing ? "updated" : "registered"} ${cellId}: ${written.state}, ${written.users}/${written.capacity} users${written.users > written.capacity ? " (OVER CAPACITY: no new users)" : ""}, ${azSummary(written)}\n`,
              );
          },
          { create: true },
        );
      },
    );
}
