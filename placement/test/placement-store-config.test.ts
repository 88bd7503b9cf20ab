import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { placementStoreConfigFromEnv } from "../src/placement-store-config.js";

describe("placementStoreConfigFromEnv (the one reading shared by the router, cellctl, the launcher, cellload)", () => {
  it("defaults to the SQLite file in <WALLET_DATA_DIR or .data>/control-plane, as an absolute path", () => {
    expect(placementStoreConfigFromEnv({})).toEqual({
      kind: "sqlite",
      path: resolve(".data", "control-plane", "placement.sqlite"),
    });
    expect(placementStoreConfigFromEnv({ WALLET_DATA_DIR: "/tmp/d" })).toEqual({
      kind: "sqlite",
      path: "/tmp/d/control-plane/placement.sqlite",
    });
  });

  it("takes PLACEMENT_SQLITE_PATH over the data dir", () => {
    expect(
      placementStoreConfigFromEnv({
        PLACEMENT_STORE: "sqlite",
        WALLET_DATA_DIR: "/tmp/d",
        PLACEMENT_SQLITE_PATH: "p.db",
      }),
    ).toEqual({ kind: "sqlite", path: resolve("p.db") });
  });

  it("reads DynamoDB's region, endpoint and table prefix; empty ones count as unset", () => {
    expect(placementStoreConfigFromEnv({ PLACEMENT_STORE: "dynamodb" })).toEqual({
      kind: "dynamodb",
      region: "us-east-1",
    });
    expect(
      placementStoreConfigFromEnv({
        PLACEMENT_STORE: "dynamodb",
        AWS_REGION: "eu-west-1",
        DYNAMODB_ENDPOINT: "http://127.0.0.1:5000",
        PLACEMENT_TABLE_PREFIX: "t1",
      }),
    ).toEqual({ kind: "dynamodb", region: "eu-west-1", endpoint: "http://127.0.0.1:5000", tablePrefix: "t1" });
    expect(
      placementStoreConfigFromEnv({ PLACEMENT_STORE: "dynamodb", DYNAMODB_ENDPOINT: "", PLACEMENT_TABLE_PREFIX: "" }),
    ).toEqual({ kind: "dynamodb", region: "us-east-1" });
  });

  it("refuses any other PLACEMENT_STORE with a one-line message", () => {
    expect(() => placementStoreConfigFromEnv({ PLACEMENT_STORE: "postgres" })).toThrow(
      "PLACEMENT_STORE must be sqlite or dynamodb, got postgres",
    );
  });
});
