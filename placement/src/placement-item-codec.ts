import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { assertSource, assertState, decodeEndpoints } from "./placement-rules.js";
import type { CellRecord, UserPlacement } from "./placement-store.js";

/**
 * Placement records <-> DynamoDB items. Decoding is strict: an item that does
 * not look like what we write is corruption, and routing on a guess would send
 * a user's money to the wrong cell.
 */

export type Item = Record<string, AttributeValue>;

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

export const stringValue = (value: string): AttributeValue => ({ S: value });

export function integerValue(value: number): AttributeValue {
  if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer: ${value}`);
  return { N: String(value) };
}

function corrupt(attribute: string, item: Item): Error {
  const keys = Object.keys(item).sort().join(",");
  return new Error(`malformed placement item: attribute ${attribute} (item has ${keys})`);
}

function str(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw corrupt(name, item);
  return value;
}

function int(item: Item, name: string): number {
  const text = item[name]?.N;
  const value = Number(text);
  if (text === undefined || !INTEGER_TEXT.test(text) || !Number.isSafeInteger(value)) throw corrupt(name, item);
  return value;
}

export function cellFromItem(item: Item): CellRecord {
  const cellId = str(item, "cellId");
  return {
    cellId,
    state: assertState(str(item, "state"), cellId),
    capacity: int(item, "capacity"),
    users: int(item, "users"),
    endpoints: decodeEndpoints(str(item, "endpoints"), cellId),
    updatedAt: int(item, "updatedAt"),
    ...(item.maxOpsPerSecond === undefined ? {} : { maxOpsPerSecond: int(item, "maxOpsPerSecond") }),
  };
}

export function placementToItem(placement: UserPlacement): Item {
  return {
    userId: stringValue(placement.userId),
    cellId: stringValue(placement.cellId),
    epoch: integerValue(placement.epoch),
    placedAt: integerValue(placement.placedAt),
    source: stringValue(placement.source),
  };
}

export function placementFromItem(item: Item): UserPlacement {
  const source = str(item, "source");
  assertSource(source);
  return {
    userId: str(item, "userId"),
    cellId: str(item, "cellId"),
    epoch: int(item, "epoch"),
    placedAt: int(item, "placedAt"),
    source,
  };
}

export function overrideToItem(userId: string, cellId: string, updatedAt: number): Item {
  return { userId: stringValue(userId), cellId: stringValue(cellId), updatedAt: integerValue(updatedAt) };
}

export function overrideCellFromItem(item: Item): string {
  return str(item, "cellId");
}
