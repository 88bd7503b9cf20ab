import type { AttributeValue, DynamoDBClient, TransactWriteItem } from "@aws-sdk/client-dynamodb";

/**
 * What a DynamoDB call WOULD consume on AWS, from the documented sizing rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
 * .../transaction-apis.html, .../LSI.html). moto reports 0 for TransactWriteItems,
 * so the benchmark estimates every call itself:
 *
 * - item size = Σ (UTF-8 length of the attribute name + size of the value); a
 *   string is its UTF-8 length, a number ≈ 1 byte per two significant digits + 1;
 * - strongly consistent read: 1 RCU per 4 KB of each item (GetItem, each item of
 *   BatchGetItem) or of the whole result (Query), at least 1 even when nothing is found;
 * - transactional write: 2 WCU per 1 KB of each item written;
 * - an item is also written to every secondary index whose key attributes it has
 *   (the transfers GSI is sparse: only pending cross-cell transfers): index entry
 *   = projected attributes + 100 bytes overhead, rounded up to 1 KB; a local
 *   index's write is assumed doubled inside a transaction like the table's, a
 *   global index's (maintained asynchronously) is not;
 * - a Put replacing an item costs the larger of the old and new sizes: the new
 *   size is used (a wallet item's size barely changes between versions);
 * - DescribeTable (readiness) is a control-plane call and is not billed;
 * - a cancelled transaction (conflict, failed condition) is listed separately
 *   and not in the estimate, though real DynamoDB may still charge for it.
 */

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

function numberSize(text: string): number {
  const unsigned = text.replace(/^-/, "");
  const digits = unsigned.replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1 + (text.startsWith("-") ? 1 : 0);
}

export function attributeValueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + attributeValueSize(v), 0);
  if (value.M !== undefined) return 3 + itemSize(value.M) + Object.keys(value.M).length;
  return 0;
}

export function itemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8(name) + attributeValueSize(value);
  return size;
}

const KB = 1024;
const READ_UNIT = 4 * KB;
const INDEX_OVERHEAD = 100;

export interface IndexModel {
  name: string;
  /** The index's key attributes beyond the table's: only items that have them all are written to it. */
  keys: string[];
  /** undefined = ALL; otherwise the projected attribute names (KEYS_ONLY: table and index keys). */
  projected?: string[];
  global: boolean;
}

export interface CapacityModel {
  /** Secondary indexes by physical table name. */
  indexes: Map<string, IndexModel[]>;
}

export interface CallEstimate {
  rcu: number;
  wcu: number;
  /** Bytes of items written (sum), for the report. */
  bytesWritten: number;
  /** Sizes of the items written, by physical table name. */
  itemSizes: [table: string, bytes: number][];
}

function pick(item: Record<string, AttributeValue>, names: string[]): Record<string, AttributeValue> {
  const picked: Record<string, AttributeValue> = {};
  for (const name of names) if (item[name] !== undefined) picked[name] = item[name];
  return picked;
}

function writeEstimate(model: CapacityModel, items: TransactWriteItem[]): CallEstimate {
  const estimate: CallEstimate = { rcu: 0, wcu: 0, bytesWritten: 0, itemSizes: [] };
  for (const action of items) {
    if (action.Put?.Item && action.Put.TableName) {
      const size = itemSize(action.Put.Item);
      estimate.bytesWritten += size;
      estimate.itemSizes.push([action.Put.TableName, size]);
      estimate.wcu += 2 * Math.ceil(size / KB);
      for (const index of model.indexes.get(action.Put.TableName) ?? []) {
        const item = action.Put.Item;
        if (index.keys.some((key) => item[key] === undefined)) continue;
        const entry = index.projected === undefined ? size : itemSize(pick(item, index.projected));
        estimate.wcu += (index.global ? 1 : 2) * Math.ceil((entry + INDEX_OVERHEAD) / KB);
      }
    } else if (action.ConditionCheck) {
      estimate.wcu += 2; // a condition check is charged like a write of a small item
    } else {
      throw new Error("capacity estimate: only Put and ConditionCheck are modelled");
    }
  }
  return estimate;
}

// biome-ignore lint/suspicious/noExplicitAny: SDK inputs and outputs are read structurally here
type Any = any;

/** The estimate of one successful call from its input and output. */
export function estimateCall(model: CapacityModel, operation: string, input: Any, output: Any): CallEstimate {
  const none: CallEstimate = { rcu: 0, wcu: 0, bytesWritten: 0, itemSizes: [] };
  const reads = (bytes: number, consistent: boolean) =>
    Math.max(1, Math.ceil(bytes / READ_UNIT)) * (consistent ? 1 : 0.5);
  switch (operation) {
    case "GetItem":
      return { ...none, rcu: reads(output?.Item ? itemSize(output.Item) : 0, input.ConsistentRead === true) };
    case "BatchGetItem": {
      let rcu = 0;
      for (const [table, request] of Object.entries<Any>(input.RequestItems ?? {})) {
        const found: Any[] = output?.Responses?.[table] ?? [];
        const unprocessed = output?.UnprocessedKeys?.[table]?.Keys?.length ?? 0;
        const missing = Math.max(0, (request.Keys?.length ?? 0) - found.length - unprocessed);
        const consistent = request.ConsistentRead === true;
        for (const item of found) rcu += reads(itemSize(item), consistent);
        rcu += missing * reads(0, consistent);
      }
      return { ...none, rcu };
    }
    case "Query": {
      const bytes = ((output?.Items ?? []) as Any[]).reduce((sum, item) => sum + itemSize(item), 0);
      return { ...none, rcu: reads(bytes, input.ConsistentRead === true) };
    }
    case "TransactWriteItems":
      return writeEstimate(model, input.TransactItems ?? []);
    case "DescribeTable":
    case "CreateTable":
    case "DescribeTimeToLive":
    case "UpdateTimeToLive":
      return none;
    default:
      throw new Error(`capacity estimate: ${operation} is not modelled`);
  }
}

export interface OperationTally {
  calls: number;
  failed: number;
  /** What the emulator reported via the store's onCall hook. */
  reportedUnits: number;
  rcu: number;
  wcu: number;
  bytesWritten: number;
  /** Wall-clock ms spent in calls (as the SDK saw them, retries included). */
  ms: number;
}

/** Calls and capacity per DynamoDB operation, for one bucket of work. */
export class CallTally {
  readonly byOperation = new Map<string, OperationTally>();
  /** Items written per table: count and total bytes. */
  readonly written = new Map<string, { items: number; bytes: number; max: number }>();

  private get(operation: string): OperationTally {
    let tally = this.byOperation.get(operation);
    if (!tally) {
      tally = { calls: 0, failed: 0, reportedUnits: 0, rcu: 0, wcu: 0, bytesWritten: 0, ms: 0 };
      this.byOperation.set(operation, tally);
    }
    return tally;
  }

  /** The store's onCall hook: one call, with the units DynamoDB (here: moto) reported. */
  reported(operation: string, units: number): void {
    const tally = this.get(operation);
    tally.calls += 1;
    tally.reportedUnits += units;
  }

  estimated(operation: string, estimate: CallEstimate | undefined, ms: number): void {
    const tally = this.get(operation);
    tally.ms += ms;
    if (estimate === undefined) {
      tally.failed += 1;
      return;
    }
    for (const [table, bytes] of estimate.itemSizes) {
      const w = this.written.get(table) ?? { items: 0, bytes: 0, max: 0 };
      w.items += 1;
      w.bytes += bytes;
      w.max = Math.max(w.max, bytes);
      this.written.set(table, w);
    }
    tally.rcu += estimate.rcu;
    tally.wcu += estimate.wcu;
    tally.bytesWritten += estimate.bytesWritten;
  }

  total(): OperationTally {
    const sum: OperationTally = { calls: 0, failed: 0, reportedUnits: 0, rcu: 0, wcu: 0, bytesWritten: 0, ms: 0 };
    for (const t of this.byOperation.values()) {
      sum.calls += t.calls;
      sum.failed += t.failed;
      sum.reportedUnits += t.reportedUnits;
      sum.rcu += t.rcu;
      sum.wcu += t.wcu;
      sum.bytesWritten += t.bytesWritten;
      sum.ms += t.ms;
    }
    return sum;
  }
}

/**
 * Adds a middleware to the client that estimates every call's capacity from its
 * input and output and hands it to `sink()` (the bucket current at that moment).
 */
export function instrumentClient(client: DynamoDBClient, model: CapacityModel, sink: () => CallTally | undefined) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
      const started = performance.now();
      try {
        const result = await next(args);
        sink()?.estimated(
          operation,
          estimateCall(model, operation, args.input, result.output),
          performance.now() - started,
        );
        return result;
      } catch (error) {
        sink()?.estimated(operation, undefined, performance.now() - started);
        throw error;
      }
    },
    { step: "initialize", name: "benchCapacityEstimate" },
  );
}
