import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { type AzTrafficDriver, type TrafficPlan, UsageError } from "./traffic-driver.js";

/** One weighted record of the AZ (SetIdentifier = the AZ, as EdgeStack creates them) and its weight change. */
export interface Route53WeightChange {
  record: string;
  type: string;
  setIdentifier: string;
  az: string;
  from: number;
  to: number;
}

export interface Route53DriverOptions {
  client: Route53Client;
  hostedZoneId: string;
  /** The weighted name (EdgeStack's domainName), with or without the final dot. */
  recordName: string;
  /** Where the API is, for messages: "--endpoint http://…", "AWS_ENDPOINT_URL …" (default: AWS itself). */
  apiLocation?: string;
}

/** Route 53 names are fully qualified, lower case, with a final dot. */
export function normalizeRecordName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith(".") ? lower : `${lower}.`;
}

/** Where a client of route53ClientFromEnv sends its calls, named as the operator set it (for messages). */
export function route53ApiLocation(env: NodeJS.ProcessEnv, endpoint?: string): string {
  if (endpoint) return `--endpoint ${endpoint}`;
  if (env.AWS_ENDPOINT_URL_ROUTE_53) return `AWS_ENDPOINT_URL_ROUTE_53 ${env.AWS_ENDPOINT_URL_ROUTE_53}`;
  if (env.AWS_ENDPOINT_URL) return `AWS_ENDPOINT_URL ${env.AWS_ENDPOINT_URL}`;
  return "AWS";
}

/** A Route 53 client for cellctl: `--endpoint`, else the SDK's own AWS_ENDPOINT_URL_ROUTE_53 / AWS_ENDPOINT_URL. */
export function route53ClientFromEnv(env: NodeJS.ProcessEnv, endpoint?: string): Route53Client {
  return new Route53Client({
    // Route 53 is a global service whose control plane lives in us-east-1.
    region: env.AWS_REGION ?? "us-east-1",
    ...(endpoint ? { endpoint } : {}),
  });
}

/**
 * The weighted records of one name in one hosted zone, one per AZ. Evacuating
 * sets the AZ's weight to 0 with an UPSERT of the whole record set (alias
 * target, health check and values kept); restoring puts the previous weight
 * back. This edits records through Route 53's control plane (us-east-1): use it
 * for planned evacuations, not as the incident lever (see docs/operations.md).
 */
export class Route53Driver implements AzTrafficDriver<Route53WeightChange> {
  readonly name = "route53";
  readonly scope: Record<string, string>;
  private readonly client: Route53Client;
  private readonly zoneId: string;
  private readonly recordName: string;
  private readonly read = new Map<string, ResourceRecordSet>();
  private readonly apiLocation: string;

  constructor(options: Route53DriverOptions) {
    this.client = options.client;
    this.zoneId = options.hostedZoneId.replace(/^\/?hostedzone\//, "");
    this.recordName = normalizeRecordName(options.recordName);
    this.scope = { zoneId: this.zoneId, record: this.recordName };
    this.apiLocation = options.apiLocation ?? "AWS";
  }

  /**
   * One Route 53 call whose failure says what was being done, where and to what: "Route 53 (AWS):
   * ListResourceRecordSets of hosted zone Z… failed: Could not load credentials from any providers", never
   * the SDK's bare message, which names neither Route 53 nor the zone.
   */
  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`Route 53 (${this.apiLocation}): ${what} of hosted zone ${this.zoneId} failed: ${message}`, {
        cause: error,
      });
    }
  }

  /** Every weighted record set of the name (all types), read with ListResourceRecordSets. */
  async weightedRecords(): Promise<ResourceRecordSet[]> {
    const found: ResourceRecordSet[] = [];
    let start: { name?: string; type?: string; identifier?: string } = { name: this.recordName };
    for (;;) {
      const page: ListResourceRecordSetsCommandOutput = await this.call("ListResourceRecordSets", () =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: this.zoneId,
            StartRecordName: start.name,
            ...(start.type ? { StartRecordType: start.type as never } : {}),
            ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
          }),
        ),
      );
      let past = false;
      for (const set of page.ResourceRecordSets ?? []) {
        const name = normalizeRecordName(set.Name ?? "");
        if (name !== this.recordName) {
          // Sets are listed in name order from StartRecordName: once past ours, stop.
          if (found.length > 0) past = true;
          continue;
        }
        if (set.SetIdentifier !== undefined && set.Weight !== undefined) found.push(set);
      }
      if (past || !page.IsTruncated || !page.NextRecordName) break;
      start = {
        name: page.NextRecordName,
        ...(page.NextRecordType ? { type: page.NextRecordType } : {}),
        ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}),
      };
    }
    return found;
  }

  private async recordsOf(az: string): Promise<{ all: ResourceRecordSet[]; mine: ResourceRecordSet[] }> {
    const all = await this.weightedRecords();
    const mine = all.filter((s) => s.SetIdentifier === az);
    if (mine.length === 0) {
      throw new UsageError(
        `no weighted record ${this.recordName} with SetIdentifier ${az} in hosted zone ${this.zoneId}` +
          (all.length > 0 ? ` (set identifiers: ${[...new Set(all.map((s) => s.SetIdentifier))].join(", ")})` : ""),
      );
    }
    this.read.clear();
    for (const set of mine) this.read.set(`${set.Type}`, set);
    return { all, mine };
  }

  private change(set: ResourceRecordSet, az: string, to: number): Route53WeightChange {
    return { record: this.recordName, type: `${set.Type}`, setIdentifier: az, az, from: set.Weight ?? 0, to };
  }

  async planEvacuation(az: string): Promise<TrafficPlan<Route53WeightChange>> {
    const { all, mine } = await this.recordsOf(az);
    const changes: Route53WeightChange[] = [];
    const unchanged: string[] = [];
    const refusals: string[] = [];
    for (const set of mine) {
      if (!((set.Weight ?? 0) > 0)) {
        unchanged.push(`${set.Type}`);
        continue;
      }
      const others = all.filter((s) => s.Type === set.Type && s.SetIdentifier !== az && (s.Weight ?? 0) > 0);
      if (others.length === 0) {
        refusals.push(`${this.recordName} ${set.Type}: ${az} is the last record with a non-zero weight`);
        continue;
      }
      changes.push(this.change(set, az, 0));
    }
    return refusals.length > 0 ? { ok: false, refusals } : { ok: true, changes, unchanged };
  }

  async planRestore(
    az: string,
    previous: (key: string) => number | undefined,
    explicitWeight?: number,
  ): Promise<TrafficPlan<Route53WeightChange>> {
    const { mine } = await this.recordsOf(az);
    const changes: Route53WeightChange[] = [];
    const unchanged: string[] = [];
    for (const set of mine) {
      if ((set.Weight ?? 0) > 0) unchanged.push(`${set.Type}`);
      else changes.push(this.change(set, az, explicitWeight ?? previous(`${set.Type}`) ?? 1));
    }
    return { ok: true, changes, unchanged };
  }

  /** One atomic change batch: every UPSERT applies or none does. */
  async apply(changes: readonly Route53WeightChange[]): Promise<void> {
    if (changes.length === 0) return;
    const batch = new ChangeResourceRecordSetsCommand({
      HostedZoneId: this.zoneId,
      ChangeBatch: {
        Comment: `cellctl az ${changes[0]?.to === 0 ? "evacuate" : "restore"} ${changes[0]?.az}`,
        Changes: changes.map((c) => {
          const set = this.read.get(c.type);
          if (!set) throw new Error(`record ${c.record} ${c.type} ${c.setIdentifier} was not read before`);
          return { Action: "UPSERT", ResourceRecordSet: { ...set, Weight: c.to } };
        }),
      },
    });
    const out = await this.call("ChangeResourceRecordSets", () => this.client.send(batch));
    this.lastChangeId = out.ChangeInfo?.Id;
  }

  /** Id of the last change batch (Route 53 reports it PENDING until its DNS servers have it, usually < 60 s). */
  lastChangeId: string | undefined;

  ownsAuditDetails(details: Record<string, unknown>): boolean {
    return details.driver === this.name && details.zoneId === this.zoneId && details.record === this.recordName;
  }

  keyOf(change: Route53WeightChange): string | undefined {
    return typeof change.type === "string" ? change.type : undefined;
  }

  readonly table = {
    header: "RECORD                         TYPE   SET-ID     WEIGHT",
    row: (c: Route53WeightChange) =>
      `${c.record.padEnd(30)} ${c.type.padEnd(6)} ${c.setIdentifier.padEnd(10)} ${c.from} -> ${c.to}`,
    unchanged: (type: string, az: string, verb: string) =>
      `${this.recordName.padEnd(30)} ${type.padEnd(6)} ${az.padEnd(10)} unchanged (already ${verb}d)`,
    applied:
      "Route 53 propagates the change to its DNS servers within about 60 s; resolvers follow within the record's TTL",
  };

  async close(): Promise<void> {
    this.client.destroy();
  }
}
