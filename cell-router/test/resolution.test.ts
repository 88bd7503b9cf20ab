import { cellScopedId, INTERNAL_CREDIT_PATH } from "@cellwallet/contract";
import { describe, expect, it } from "vitest";
import { isMethodAllowed, matchRoute, type ResolveInput, resolve, routeLabel } from "../src/resolution.js";

const ULID = "01JD3F6V6Y0M6X8Y9Z0A1B2C3D";
const walletB = cellScopedId(ULID, "cell-b");
const transferA = cellScopedId("01JD3F6V6Y0M6X8Y9Z0A1B2C3E", "cell-a");
const JSON_TYPE = "application/json";

function input(method: string, pathAndQuery: string, body?: unknown, contentType = JSON_TYPE): ResolveInput {
  const url = new URL(pathAndQuery, "http://router");
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return {
    route: matchRoute(url.pathname),
    method,
    query: url.searchParams,
    body: body instanceof Uint8Array ? body : new TextEncoder().encode(text),
    contentType: body === undefined ? undefined : contentType,
  };
}

describe("matchRoute", () => {
  it.each([
    ["/api/v1/wallets", "wallets", undefined],
    ["/api/v1/wallets/transfer", "transfer", undefined],
    [`/api/v1/wallets/${walletB}`, "get-wallet", walletB],
    [`/api/v1/wallets/${walletB}/deposit`, "deposit", walletB],
    [`/api/v1/wallets/${walletB}/withdraw`, "withdraw", walletB],
    [`/api/v1/wallets/${walletB}/balance/historical`, "historical-balance", walletB],
    [`/api/v1/wallets/${walletB}/transactions`, "list-transactions", walletB],
    [`/api/v1/wallets/${walletB}/transactions/${ULID}`, "get-transaction", walletB],
    [`/api/v1/wallets/${walletB}/audit`, "audit", walletB],
    [`/api/v1/transfers/${transferA}`, "get-transfer", transferA],
    [INTERNAL_CREDIT_PATH, "internal-credit", undefined],
  ])("%s is %s", (path, name, id) => {
    const route = matchRoute(path);
    expect(route?.name).toBe(name);
    expect(route?.id).toBe(id);
  });

  it.each(["/api/v1/wallets/", "/api/v2/wallets", "/api/v1/wallets/x/y", "/api/v1/transfers", "/internal/v1/other"])(
    "%s names no route",
    (path) => {
      expect(matchRoute(path)).toBeUndefined();
    },
  );

  it("knows which methods each path accepts (HEAD as GET)", () => {
    const transfer = matchRoute("/api/v1/wallets/transfer");
    expect(transfer && isMethodAllowed(transfer, "GET")).toBe(false);
    expect(transfer && isMethodAllowed(transfer, "POST")).toBe(true);
    const wallet = matchRoute(`/api/v1/wallets/${walletB}`);
    expect(wallet && isMethodAllowed(wallet, "HEAD")).toBe(true);
    expect(wallet && isMethodAllowed(wallet, "DELETE")).toBe(false);
    const wallets = matchRoute("/api/v1/wallets");
    expect(routeLabel(wallets, "POST")).toBe("create-wallet");
    expect(routeLabel(wallets, "GET")).toBe("find-wallets");
    expect(routeLabel(undefined, "GET")).toBe("unmatched");
  });

  it("decodes the id in the path and tolerates undecodable ones", () => {
    expect(matchRoute("/api/v1/wallets/a%2Db")?.id).toBe("a-b");
    const bad = matchRoute("/api/v1/wallets/%E0%A4%A");
    expect(bad?.name).toBe("get-wallet");
    expect(bad?.id).toBeUndefined();
  });
});

describe("resolve", () => {
  it("routes wallet creation by the body's userId, for bodies the cell accepts in shape", () => {
    expect(resolve(input("POST", "/api/v1/wallets", { userId: "alice" }))).toEqual({
      kind: "create-wallet",
      userId: "alice",
    });
    expect(resolve(input("POST", "/api/v1/wallets", { userId: "a.b@c:d-e_f", currency: "JPY" }))).toEqual({
      kind: "create-wallet",
      userId: "a.b@c:d-e_f",
    });
    expect(resolve(input("POST", "/api/v1/wallets", { userId: "x" }, "application/json; charset=utf-8")).kind).toBe(
      "create-wallet",
    );
  });

  it.each([
    ["invalid JSON", '{"userId": "alice"'],
    ["an array", '["alice"]'],
    ["a missing userId", {}],
    ["a userId that is no user id", { userId: "not allowed!" }],
    ["a userId that is not a string", { userId: 42 }],
    ["an unknown member", { userId: "alice", colour: "red" }],
    ["an unknown currency", { userId: "alice", currency: "XXX" }],
    [
      "invalid UTF-8",
      new Uint8Array([...new TextEncoder().encode('{"userId":"al'), 0xff, ...new TextEncoder().encode('"}')]),
    ],
  ])("sends a creation with %s to any cell (it answers 400 without placing anyone)", (_name, body) => {
    expect(resolve(input("POST", "/api/v1/wallets", body))).toEqual({ kind: "any" });
  });

  it("refuses to read a body that is not declared JSON", () => {
    expect(resolve(input("POST", "/api/v1/wallets", { userId: "alice" }, "text/plain"))).toEqual({ kind: "any" });
    const raw = input("POST", "/api/v1/wallets", { userId: "alice" });
    expect(resolve({ ...raw, contentType: undefined })).toEqual({ kind: "any" });
  });

  it("routes GET /wallets by exactly one well-formed userId", () => {
    expect(resolve(input("GET", "/api/v1/wallets?userId=alice"))).toEqual({ kind: "find-wallets", userId: "alice" });
    expect(resolve(input("GET", "/api/v1/wallets"))).toEqual({ kind: "any" });
    expect(resolve(input("GET", "/api/v1/wallets?userId=a&userId=b"))).toEqual({ kind: "any" });
    expect(resolve(input("GET", "/api/v1/wallets?userId=%20bad"))).toEqual({ kind: "any" });
  });

  it("routes wallet and transfer paths by the id's cell hint", () => {
    for (const path of [
      `/api/v1/wallets/${walletB}`,
      `/api/v1/wallets/${walletB}/deposit`,
      `/api/v1/wallets/${walletB}/transactions?limit=5`,
      `/api/v1/wallets/${walletB}/transactions/${ULID}`,
      `/api/v1/wallets/${walletB}/balance/historical?timestamp=2026-01-01T00:00:00Z`,
      `/api/v1/wallets/${walletB}/audit`,
    ]) {
      expect(resolve(input(path.includes("deposit") ? "POST" : "GET", path, undefined))).toEqual({
        kind: "wallet",
        walletId: walletB,
        cellId: "cell-b",
      });
    }
    expect(resolve(input("GET", `/api/v1/transfers/${transferA}`))).toEqual({ kind: "hint", cellId: "cell-a" });
  });

  it("sends ids without a hint to any cell, which answers the exact 404", () => {
    expect(resolve(input("GET", `/api/v1/wallets/${ULID}`))).toEqual({ kind: "any" });
    expect(resolve(input("GET", "/api/v1/transfers/short-id"))).toEqual({ kind: "any" });
    expect(resolve(input("GET", `/api/v1/wallets/${ULID}-Not_A_Cell`))).toEqual({ kind: "any" });
    expect(resolve(input("GET", "/api/v1/nothing-here"))).toEqual({ kind: "any" });
  });

  it("routes a transfer by its source wallet", () => {
    const body = { fromWalletId: transferA.replace("3E", "3F"), toWalletId: walletB, amount: "1.00" };
    expect(resolve(input("POST", "/api/v1/wallets/transfer", body))).toEqual({
      kind: "wallet",
      walletId: body.fromWalletId,
      cellId: "cell-a",
    });
    expect(resolve(input("POST", "/api/v1/wallets/transfer", { toWalletId: walletB }))).toEqual({ kind: "any" });
    expect(resolve(input("POST", "/api/v1/wallets/transfer", "not json"))).toEqual({ kind: "any" });
  });

  it("routes an internal credit by the receiving wallet, naming wallets without a hint", () => {
    const credit = { transferId: transferA, fromWalletId: transferA, toWalletId: walletB, amount: "1.00" };
    expect(resolve(input("POST", INTERNAL_CREDIT_PATH, credit))).toEqual({
      kind: "internal-credit",
      cellId: "cell-b",
      walletId: walletB,
    });
    expect(resolve(input("POST", INTERNAL_CREDIT_PATH, { ...credit, toWalletId: ULID }))).toEqual({
      kind: "internal-credit",
      cellId: undefined,
      walletId: ULID,
    });
    expect(resolve(input("POST", INTERNAL_CREDIT_PATH, "{"))).toEqual({ kind: "any" });
    expect(resolve(input("POST", INTERNAL_CREDIT_PATH, { ...credit, toWalletId: 7 }))).toEqual({ kind: "any" });
  });

  it("reads amounts from the bytes without caring how they are written (they are forwarded unchanged)", () => {
    const raw = `{"fromWalletId":"${transferA}","toWalletId":"${walletB}","amount":10.005}`;
    expect(resolve(input("POST", "/api/v1/wallets/transfer", raw))).toEqual({
      kind: "wallet",
      walletId: transferA,
      cellId: "cell-a",
    });
  });
});
