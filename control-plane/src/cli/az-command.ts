import { Command } from "commander";
import { Route53Driver, route53ApiLocation, route53ClientFromEnv } from "../az/route53-driver.js";
import { RouterWeightsDriver } from "../az/router-weights-driver.js";
import { type AzTrafficDriver, UsageError, type WeightChange } from "../az/traffic-driver.js";
import { openOperatorLogFromEnv, openPlacementStoreFromEnv, operatorName } from "./cli-env.js";
import { positiveNumber } from "./cli-options.js";
import { confirmOrExit, EXIT_REFUSED, EXIT_USAGE, recordThenApply } from "./operator-prompt.js";
import { printJson } from "./output.js";

type AnyDriver = AzTrafficDriver<WeightChange>;

interface DriverOptions {
  driver?: string;
  cell?: string;
  zoneId?: string;
  record?: string;
  endpoint?: string;
}

/**
 * The weight each target of `az` had before its latest recorded evacuation by the same driver and scope
 * (from the operator audit trail), keyed as the driver keys its changes.
 */
async function weightsBeforeEvacuation(env: NodeJS.ProcessEnv, driver: AnyDriver, az: string) {
  const weights = new Map<string, number>();
  const log = openOperatorLogFromEnv(env);
  try {
    for await (const record of log.stream()) {
      if (record.action !== "az.evacuate") continue;
      const details = record.details as Record<string, unknown>;
      if (!driver.ownsAuditDetails(details) || !Array.isArray(details.changes)) continue;
      for (const c of details.changes as WeightChange[]) {
        const key = driver.keyOf(c);
        if (c.az === az && key !== undefined && typeof c.from === "number" && c.from > 0) weights.set(key, c.from);
      }
    }
  } finally {
    await log.close();
  }
  return weights;
}

function openDriver(env: NodeJS.ProcessEnv, options: DriverOptions, command: Command): AnyDriver {
  const kind = options.driver ?? "router-weights";
  if (kind === "router-weights") {
    if (options.zoneId || options.record || options.endpoint) {
      command.error("cellctl: --zone-id, --record and --endpoint need --driver route53", { exitCode: EXIT_USAGE });
    }
    return new RouterWeightsDriver(openPlacementStoreFromEnv(env), options.cell);
  }
  if (kind === "route53") {
    if (!options.zoneId || !options.record) {
      command.error("cellctl: --driver route53 needs --zone-id and --record", { exitCode: EXIT_USAGE });
    }
    if (options.cell) command.error("cellctl: --cell applies to the router-weights driver", { exitCode: EXIT_USAGE });
    return new Route53Driver({
      client: route53ClientFromEnv(env, options.endpoint),
      hostedZoneId: options.zoneId,
      recordName: options.record,
      apiLocation: route53ApiLocation(env, options.endpoint),
    });
  }
  return command.error(`cellctl: --driver must be router-weights or route53, got ${kind}`, { exitCode: EXIT_USAGE });
}

/** Runs `use` with the driver, turning an unknown target into exit 2. */
async function withDriver(
  env: NodeJS.ProcessEnv,
  options: DriverOptions,
  command: Command,
  use: (driver: AnyDriver) => Promise<void>,
): Promise<void> {
  const driver = openDriver(env, options, command);
  try {
    await use(driver);
  } catch (error) {
    if (error instanceof UsageError) command.error(`cellctl: ${error.message}`, { exitCode: EXIT_USAGE });
    throw error;
  } finally {
    await driver.close();
  }
}

function report(
  driver: AnyDriver,
  verb: string,
  az: string,
  changes: WeightChange[],
  unchanged: string[],
  json: boolean,
): void {
  if (json) {
    const extra = driver instanceof Route53Driver ? { changeId: driver.lastChangeId ?? null } : {};
    const out = { az, action: verb, driver: driver.name, ...driver.scope, changes, unchanged, ...extra };
    printJson(out);
    return;
  }
  const lines = [driver.table.header];
  for (const c of changes) lines.push(driver.table.row(c));
  for (const id of unchanged) lines.push(driver.table.unchanged(id, az, verb));
  lines.push(
    changes.length > 0
      ? `${verb}d ${az} in ${changes.length} ${driver.name === "route53" ? "record" : "cell"}(s); ${driver.table.applied}`
      : `nothing to do: ${az} is already ${verb}d`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

function driverOptions(command: Command): Command {
  return command
    .option("--driver <driver>", "router-weights (default) or route53")
    .option("--cell <cellId>", "router-weights: only this cell")
    .option("--zone-id <id>", "route53: the hosted zone id")
    .option("--record <name>", "route53: the weighted record name (one record per AZ, SetIdentifier = the AZ)")
    .option("--endpoint <url>", "route53: API endpoint (default: AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL or AWS)");
}

const DRIVERS_HELP = `
Drivers:
  router-weights  (default) the AZ's endpoint weight in the placement registry. Routers re-read the
                  registry every ROUTER_REGISTRY_REFRESH_MS and never send to a weight-0 endpoint;
                  nothing is asked of the failing AZ. Prefer it (and Route 53 health checks) during
                  an incident.
  route53         the weight of the AZ's weighted record (SetIdentifier = the AZ) in a hosted zone,
                  via ChangeResourceRecordSets (UPSERT). This uses Route 53's control plane
                  (us-east-1), which may be impaired in a large event: meant for planned evacuations.
                  Credentials and region come from the usual AWS variables.
The previous weights are kept in the operator audit trail for restore.`;

function evacuateCommand(env: NodeJS.ProcessEnv): Command {
  return driverOptions(
    new Command("evacuate")
      .description("Shift traffic away from an AZ: set its weight to 0 (router weights, or its Route 53 record)")
      .argument("<az>"),
  )
    .option("-y, --yes", "do not ask for confirmation (required in non-interactive use)")
    .option("--json", "print the changes as JSON")
    .addHelpText(
      "after",
      `${DRIVERS_HELP}
Refused as a whole (nothing changed) if a cell would be left with no AZ in service, or if the
AZ's Route 53 record is the last one with a non-zero weight.

Exit status: 0 evacuated (or already), 1 refused or failed, 2 usage, unknown cell/AZ/record or not confirmed.

Examples:
  $ cellctl az evacuate az-1 --yes
  $ cellctl az evacuate az-2 --cell cell-1 --yes --json
  $ cellctl az evacuate us-east-1a --driver route53 --zone-id Z0123456789 --record api.example.com --yes`,
    )
    .action(async (az: string, options: DriverOptions & { yes?: boolean; json?: boolean }, command: Command) => {
      await withDriver(env, options, command, async (driver) => {
        const plan = await driver.planEvacuation(az);
        if (!plan.ok) {
          return command.error(`cellctl: refusing to evacuate ${az}: ${plan.refusals.join("; ")}`, {
            exitCode: EXIT_REFUSED,
          });
        }
        if (plan.changes.length > 0) {
          const targets = plan.changes.map((c) => driver.keyOf(c)).join(", ");
          await confirmOrExit(
            command,
            options.yes,
            `Evacuate ${az} (${driver.name}: ${targets}) so that it gets no more traffic?`,
          );
          await recordThenApply(
            env,
            command,
            {
              actor: operatorName(env),
              action: "az.evacuate",
              target: az,
              details: { driver: driver.name, ...driver.scope, changes: plan.changes },
            },
            () => driver.apply(plan.changes),
          );
        }
        report(driver, "evacuate", az, plan.changes, plan.unchanged, Boolean(options.json));
      });
    });
}

/**
 * Restoring gives back what evacuate took and asks nothing; --yes is accepted, like uncordon's, so a script
 * confirming every step (evacuate --yes, restore --yes) does not fail on it.
 */
function restoreCommand(env: NodeJS.ProcessEnv): Command {
  return driverOptions(
    new Command("restore")
      .description("Send traffic back to an evacuated AZ: give it its weight back")
      .argument("<az>"),
  )
    .option("--weight <w>", "weight to set (default: the weight before the last evacuation, else 1)", positiveNumber)
    .option("-y, --yes", "accepted for consistency (restore does not ask)")
    .option("--json", "print the changes as JSON")
    .addHelpText(
      "after",
      `${DRIVERS_HELP}

Does not ask for confirmation; --yes is accepted.

Exit status: 0 restored (or nothing evacuated), 1 the change could not be recorded or written,
2 usage or unknown cell/AZ/record.

Examples:
  $ cellctl az restore az-1
  $ cellctl az restore az-1 --cell cell-2 --weight 2
  $ cellctl az restore us-east-1a --driver route53 --zone-id Z0123456789 --record api.example.com`,
    )
    .action(async (az: string, options: DriverOptions & { weight?: number; json?: boolean }, command: Command) => {
      if (options.weight !== undefined && !(Number.isFinite(options.weight) && options.weight > 0)) {
        command.error("cellctl: --weight must be a positive number", { exitCode: EXIT_USAGE });
      }
      await withDriver(env, options, command, async (driver) => {
        const previous = await weightsBeforeEvacuation(env, driver, az);
        const plan = await driver.planRestore(az, (key) => previous.get(key), options.weight);
        if (!plan.ok) return command.error(`cellctl: refusing to restore ${az}`, { exitCode: EXIT_REFUSED });
        if (plan.changes.length > 0) {
          await recordThenApply(
            env,
            command,
            {
              actor: operatorName(env),
              action: "az.restore",
              target: az,
              details: { driver: driver.name, ...driver.scope, changes: plan.changes },
            },
            () => driver.apply(plan.changes),
          );
        }
        report(driver, "restore", az, plan.changes, plan.unchanged, Boolean(options.json));
      });
    });
}

/** `cellctl az evacuate | restore`: AZ traffic shifts through the routers' weights or Route 53 weighted records. */
export function azCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("az")
    .description("Evacuate an AZ (shift traffic away within seconds) and restore it")
    .addCommand(evacuateCommand(env))
    .addCommand(restoreCommand(env))
    .addHelpText(
      "after",
      `
Examples:
  $ cellctl az evacuate az-1 --yes
  $ cellctl az restore az-1
  $ cellctl az evacuate us-east-1a --driver route53 --zone-id Z0123456789 --record api.example.com --yes`,
    );
}
