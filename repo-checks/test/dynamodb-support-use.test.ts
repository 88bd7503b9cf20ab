import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The DynamoDB plumbing lives once, in `@cellwallet/store-support/dynamodb` (its copies had drifted: timeouts,
 * which errors are transient, the index race). This keeps it that way: no source file outside it builds a
 * client, creates a table, lists transient errors or parses cancellation reasons, or declares a table-definition
 * type of its own. The load tool's in-process benchmark builds its own instrumented client against moto.
 */
const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const SUPPORT = "store-support/src/dynamodb/";
const PACKAGES = ["cell-service", "control-plane", "cell-router", "client", "contract", "infra/aws", "store-support"];
const BENCHMARK_CLIENT = "loadtest/src/bench/dynamo-inprocess.ts";

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === "node_modules" || name === "dist") return [];
    return statSync(full).isDirectory() ? walk(full) : full.endsWith(".ts") ? [full] : [];
  });
}

const sources = [...PACKAGES, "loadtest"].flatMap((pkg) =>
  walk(join(ROOT, pkg, "src"))
    .filter((f) => !f.endsWith(".test.ts"))
    .map((f) => ({ path: relative(ROOT, f), text: readFileSync(f, "utf8") })),
);

const outsideSupport = (pattern: RegExp, allowed: readonly string[] = []) =>
  sources
    .filter((s) => !s.path.startsWith(SUPPORT) && !allowed.includes(s.path) && pattern.test(s.text))
    .map((s) => s.path);

describe("DynamoDB support is used, not copied", () => {
  it("scans the sources it guards", () => {
    expect(sources.some((s) => s.path === `${SUPPORT}client.ts`)).toBe(true);
    expect(sources.some((s) => s.path === "cell-service/src/adapters/dynamodb/dynamodb-ledger-store.ts")).toBe(true);
  });

  it("builds every client with createDynamoDbClient (timeouts)", () => {
    expect(outsideSupport(/new DynamoDBClient\s*\(/, [BENCHMARK_CLIENT])).toEqual([]);
  });

  it("creates tables and adds indexes only through ensureTable", () => {
    expect(outsideSupport(/\bCreateTableCommand\b|GlobalSecondaryIndexUpdates/)).toEqual([]);
  });

  it("keeps one list of transient errors and one cancellation parser", () => {
    expect(outsideSupport(/["']TransactionConflict(Exception)?["']|["']RequestLimitExceeded["']/)).toEqual([]);
    expect(outsideSupport(/CancellationReasons\s*\??:|\.CancellationReasons\b/)).toEqual([]);
  });

  it("declares table definitions with the one TableDefinition type", () => {
    expect(outsideSupport(/interface \w*(Table|Index)Definition\b(?! extends TableDefinition)/)).toEqual([]);
    expect(outsideSupport(/readonly partitionKey\s*:/)).toEqual([]);
  });
});
