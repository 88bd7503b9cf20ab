/**
 * Hostile input, table-driven, against an in-process cell over real HTTP, once per store adapter.
 * Every case must get its documented 4xx problem AND leave every wallet it aims at exactly as it
 * was (wallet, balance, version, transaction list), and create no wallet. Across the whole suite
 * no request may be answered with a 5xx.
 */
import { createHmac } from "node:crypto";
import { PROBLEM_TYPES, type ProblemCode } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { TEST_JWT_SECRET, token } from "../../test-support/tokens.js";

const motoEndpoint = inject("motoEndpoint");
const API = "/api/v1";
const UNKNOWN_ID = "01J0000000000000000000000Z";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A JWT built by hand so every part of it can be forged. */
function signJwt(
  payload: Record<string, unknown>,
  options: { secret?: string; alg?: string; header?: Record<string, unknown> } = {},
): string {
  const alg = options.alg ?? "HS256";
  const head = `${b64url(options.header ?? { alg, typ: "JWT" })}.${b64url(payload)}`;
  if (alg === "none") return `${head}.`;
  const mac = createHmac(alg === "HS512" ? "sha512" : "sha256", options.secret ?? TEST_JWT_SECRET)
    .update(head)
    .digest("base64url");
  return `${head}.${mac}`;
}

interface Party {
  userId: string;
  token: string;
  walletId: string;
}

interface Fixture {
  alice: Party; // USD, has history, sent a transfer to carol
  bob: Party; // USD
  carol: Party; // USD, received from alice
  yen: Party; // JPY
  dinar: Party; // BHD
  mallory: { userId: string; token: string }; // a user without a wallet
  operator: string;
  auditor: string;
  aliceTransactionId: string;
  transferId: string;
  cursorOfBob: string;
}

type Body = unknown | ((f: Fixture, ghost: string) => unknown);

interface Case {
  name: string;
  method?: string;
  path: (f: Fixture) => string;
  /** A string is sent as is; a Uint8Array as bytes; anything else as JSON. */
  body?: Body;
  /** Content-Type to send with a body; null sends none. Default application/json. */
  contentType?: string | null;
  headers?: (f: Fixture) => Record<string, string>;
  /** The whole Authorization header; null sends none. Default: alice's bearer token. */
  auth?: (f: Fixture) => string | null;
  code: ProblemCode;
  /** Wallets that must be unchanged afterwards. Default: alice's. */
  touches?: (f: Fixture) => string[];
  /** A user id that must still have no wallet afterwards ("ghost" is this case's fresh user). */
  noWalletFor?: (f: Fixture, ghost: string) => string;
  /** Send the body as a chunked stream (no Content-Length). */
  chunked?: boolean;
  /** The validation error's detail, when a case pins it. */
  errorDetail?: string;
}

const bearer = (t: string) => `Bearer ${t}`;
const alicePath = (suffix: string) => (f: Fixture) => `${API}/wallets/${f.alice.walletId}${suffix}`;
const deposit = alicePath("/deposit");
const withdraw = alicePath("/withdraw");
const transferPath = () => `${API}/wallets/transfer`;
const createPath = () => `${API}/wallets`;
const aliceToBob = (f: Fixture) => [f.alice.walletId, f.bob.walletId];
const asOperator = (f: Fixture) => bearer(f.operator);
const ghostHasNone = (_f: Fixture, ghost: string) => ghost;

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const malformedBodies: Case[] = [
  ["truncated", '{"amount":"1.00"'],
  ["unquoted key", '{amount:"1.00"}'],
  ["single quotes", "{'amount':'1.00'}"],
  ["trailing comma", '{"amount":"1.00",}'],
  ["a comment", '{"amount":"1.00" /* more */}'],
  ["two documents", '{"amount":"1.00"}{"amount":"1.00"}'],
  ["an empty body", ""],
  ["only whitespace", "  \n "],
  ["NaN literal", '{"amount":NaN}'],
  ["Infinity literal", '{"amount":Infinity}'],
  ["hex literal", '{"amount":0x10}'],
  ["leading + literal", '{"amount":+5}'],
  ["leading zero literal", '{"amount":05}'],
  ["unterminated string", '{"amount":"1.00}'],
  ["raw control character in a string", '{"amount":"1.00","reference":"a\u0001b"}'],
  ["duplicate amount", '{"amount":"1.00","amount":"1000.00"}'],
  ["duplicate reference", '{"amount":"1.00","reference":"a","reference":"b"}'],
  ["5,000 nested arrays", `{"amount":${"[".repeat(5000)}${"]".repeat(5000)}}`],
].map(([name, body]) => ({ name: `malformed JSON: ${name}`, path: deposit, body, code: "malformed-json" }) as Case);

const nonObjectBodies: Case[] = [
  ["an empty array", "[]"],
  ["an array of the body", '[{"amount":"1.00"}]'],
  ["a string", '"1.00"'],
  ["null", "null"],
  ["a number", "5"],
  ["true", "true"],
].map(([name, body]) => ({ name: `JSON ${name} as body`, path: deposit, body, code: "validation-error" }) as Case);

/** Amount literals as raw JSON (numbers and strings) that must be 400 invalid-amount on a USD wallet. */
const BAD_USD_AMOUNTS = [
  "1e400",
  "123456789012345678901234567890",
  '"123456789012345678901234567890"',
  "10.00005",
  '"10.00005"',
  '"10.50000"',
  // A number is judged by its value (1e3 is 1000, accepted); these values are out of range or too fine.
  "1e-5",
  "1.000005E1",
  "2e9",
  "-1e2",
  "0e5",
  '"1e3"',
  '"1E3"',
  "-5",
  '"-5.00"',
  "-0",
  '"-0"',
  "0",
  "0.00",
  '"0"',
  '"0.00"',
  '"NaN"',
  '"Infinity"',
  '"-Infinity"',
  '"+5.00"',
  '" 5.00"',
  '"5.00 "',
  '"5 .00"',
  '"0x10"',
  '"5,00"',
  '"1_000"',
  '"\uff11\uff10"',
  '"\u0661"',
  '""',
  '"5.00\\u0000"',
  "1000000000.01",
  '"1000000000.01"',
  "1000000001",
  '"1000000001"',
  "true",
  "false",
  "null",
  "{}",
  '{"value":"5.00"}',
  "[]",
  '["5.00"]',
];

const amounts: Case[] = [
  ...BAD_USD_AMOUNTS.map(
    (literal): Case => ({
      name: `deposit amount ${literal}`,
      path: deposit,
      body: `{"amount":${literal}}`,
      code: "invalid-amount",
    }),
  ),
  ...["-5", '"-5.00"', "1e10", "0", '"NaN"', '"1000000001"', "true", '["1"]'].map(
    (literal): Case => ({
      name: `withdraw amount ${literal}`,
      path: withdraw,
      body: `{"amount":${literal}}`,
      code: "invalid-amount",
    }),
  ),
  ...["-5", '"-5.00"', "0", "10.00005", '"1e3"', '"1000000001"', "null", "{}"].map(
    (literal): Case => ({
      name: `transfer amount ${literal}`,
      path: transferPath,
      body: (f: Fixture) =>
        `{"fromWalletId":"${f.alice.walletId}","toWalletId":"${f.bob.walletId}","amount":${literal}}`,
      code: "invalid-amount",
      touches: aliceToBob,
    }),
  ),
  // Well-formed amounts with more decimals than the wallet's currency has: 422, and nothing changes either.
  ...["10.005", '"10.005"', '"10.500"', "1.5e-3", "10005e-3"].map(
    (literal): Case => ({
      name: `USD amount ${literal}`,
      path: deposit,
      body: `{"amount":${literal}}`,
      code: "amount-precision",
    }),
  ),
  ...['"1.5"', "1.5", '"1.0"', '"0.5"'].map(
    (literal): Case => ({
      name: `JPY amount ${literal}`,
      path: (f) => `${API}/wallets/${f.yen.walletId}/deposit`,
      auth: (f) => bearer(f.yen.token),
      body: `{"amount":${literal}}`,
      code: "amount-precision",
      touches: (f) => [f.yen.walletId],
    }),
  ),
  ...['"1e2"'].map(
    (literal): Case => ({
      name: `JPY amount ${literal}`,
      path: (f) => `${API}/wallets/${f.yen.walletId}/deposit`,
      auth: (f) => bearer(f.yen.token),
      body: `{"amount":${literal}}`,
      code: "invalid-amount",
      touches: (f) => [f.yen.walletId],
    }),
  ),
  ...['"0.0001"', "0.0001", '"1.0005"'].map(
    (literal): Case => ({
      name: `BHD amount ${literal}`,
      path: (f) => `${API}/wallets/${f.dinar.walletId}/withdraw`,
      auth: (f) => bearer(f.dinar.token),
      body: `{"amount":${literal}}`,
      code: "amount-precision",
      touches: (f) => [f.dinar.walletId],
    }),
  ),
  { name: "deposit without an amount", path: deposit, body: {}, code: "validation-error" },
  { name: "deposit with only a reference", path: deposit, body: { reference: "x" }, code: "validation-error" },
];

const long = (n: number, c = "x") => c.repeat(n);

const fieldTypes: Case[] = [
  ...[5, true, null, {}, [], ["x"], long(129)].map(
    (reference): Case => ({
      name: `deposit reference ${JSON.stringify(reference).slice(0, 20)}`,
      path: deposit,
      body: { amount: "1.00", reference },
      code: "validation-error",
    }),
  ),
  {
    name: "withdraw reference of 129 characters",
    path: withdraw,
    body: { amount: "1.00", reference: long(129) },
    code: "validation-error",
  },
  {
    name: "deposit reference of 129 astral characters",
    path: deposit,
    body: { amount: "1.00", reference: long(129, "\u{1F4B0}") },
    code: "validation-error",
  },
  ...["\\ud800", "\\udc00x", "a\\ud83d"].map(
    (escaped): Case => ({
      name: `deposit reference with a lone surrogate ${escaped}`,
      path: deposit,
      body: `{"amount":"1.00","reference":"${escaped}"}`,
      code: "validation-error",
    }),
  ),
  // As JSON escapes (a raw control character is malformed JSON, tested above), and one raw U+202E.
  ...[
    "a\\u0000b",
    "line\\nforged",
    "tab\\there",
    "\\u007f",
    "nel\\u0085",
    "pay \\u202e001",
    "\\u2066x\\u2069",
    "\\u200f",
    "pay \u202e001",
  ].map(
    (escaped): Case => ({
      name: `deposit reference with a control or bidi character ${escaped}`,
      path: deposit,
      body: `{"amount":"1.00","reference":"${escaped}"}`,
      code: "validation-error",
    }),
  ),
  ...[
    ["a bidi override", "\u202e"],
    ["a lone surrogate", "\\ud800"],
  ].map(
    ([what, reference]): Case => ({
      name: `transfer reference with ${what}`,
      path: transferPath,
      body: (f: Fixture) =>
        `{"fromWalletId":"${f.alice.walletId}","toWalletId":"${f.bob.walletId}","amount":"1.00","reference":"${reference}"}`,
      code: "validation-error",
      touches: aliceToBob,
    }),
  ),
  ...[5, null, true, {}, [], "", long(129), "a b", "j\u00f3zef", "a/b", "alice\n", "<script>", "ghost\u0000"].map(
    (userId): Case => ({
      name: `create userId ${JSON.stringify(userId).slice(0, 24)}`,
      path: createPath,
      auth: asOperator,
      body: { userId },
      code: "validation-error",
      touches: () => [],
      ...(typeof userId === "string" && userId.length > 0 ? { noWalletFor: () => userId } : {}),
    }),
  ),
  {
    name: "create without userId",
    path: createPath,
    auth: asOperator,
    body: { currency: "USD" },
    code: "validation-error",
    touches: () => [],
  },
  ...[5, null, true, [], ["USD"], "usd", "XXX", "EURO", "", "US", "USD ", "U\u0053D\u200b", "BTC"].map(
    (currency): Case => ({
      name: `create currency ${JSON.stringify(currency)}`,
      path: createPath,
      auth: asOperator,
      body: (_f: Fixture, ghost: string) => ({ userId: ghost, currency }),
      code: "validation-error",
      touches: () => [],
      noWalletFor: ghostHasNone,
    }),
  ),
  ...(
    [
      ["fromWalletId", 5],
      ["fromWalletId", null],
      ["fromWalletId", {}],
      ["fromWalletId", ""],
      ["fromWalletId", "a b"],
      ["fromWalletId", "../x"],
      ["fromWalletId", long(129)],
      ["toWalletId", 5],
      ["toWalletId", null],
      ["toWalletId", []],
      ["toWalletId", ""],
      ["toWalletId", "x/y"],
      ["toWalletId", long(129)],
      ["reference", 7],
      ["reference", long(129)],
    ] as const
  ).map(
    ([field, value]): Case => ({
      name: `transfer ${field} ${JSON.stringify(value).slice(0, 20)}`,
      path: transferPath,
      body: (f: Fixture) => ({
        fromWalletId: f.alice.walletId,
        toWalletId: f.bob.walletId,
        amount: "1.00",
        [field]: value,
      }),
      code: "validation-error",
      touches: aliceToBob,
    }),
  ),
  ...(["fromWalletId", "toWalletId", "amount"] as const).map(
    (missing): Case => ({
      name: `transfer without ${missing}`,
      path: transferPath,
      body: (f: Fixture) => {
        const body: Record<string, string> = {
          fromWalletId: f.alice.walletId,
          toWalletId: f.bob.walletId,
          amount: "1.00",
        };
        delete body[missing];
        return body;
      },
      code: "validation-error",
      touches: aliceToBob,
    }),
  ),
];

const unknownMembers: Case[] = [
  ...[
    '{"amount":"1.00","extra":1}',
    '{"amount":"1.00","Amount":"5.00"}',
    '{"amount":"1.00","__proto__":{"amount":"999.00"}}',
    '{"__proto__":{"amount":"999.00"}}',
    '{"amount":"1.00","constructor":{"prototype":{"admin":true}}}',
    '{"amount":"1.00","prototype":1}',
    '{"amount":"1.00","walletId":"WALLET_OF_BOB"}',
    '{"amount":"1.00","balance":"1000000.00"}',
    '{"amount":"1.00","type":"TRANSFER_IN"}',
  ].map(
    (raw): Case => ({
      name: `deposit body ${raw}`,
      path: deposit,
      body: (f: Fixture) => raw.replace("WALLET_OF_BOB", f.bob.walletId),
      code: "validation-error",
      touches: aliceToBob,
    }),
  ),
  ...[
    '{"userId":"GHOST","balance":"1000.00"}',
    '{"userId":"GHOST","__proto__":{"currency":"JPY"}}',
    '{"userId":"GHOST","constructor":"x"}',
    '{"userId":"GHOST","walletId":"01J0000000000000000000000Z"}',
    '{"userId":"GHOST","version":5}',
  ].map(
    (raw): Case => ({
      name: `create body ${raw}`,
      path: createPath,
      auth: asOperator,
      body: (_f: Fixture, ghost: string) => raw.replace("GHOST", ghost),
      code: "validation-error",
      touches: () => [],
      noWalletFor: ghostHasNone,
    }),
  ),
  {
    name: "create with duplicate userId",
    path: createPath,
    auth: asOperator,
    body: (_f: Fixture, ghost: string) => `{"userId":"${ghost}","userId":"${ghost}-b"}`,
    code: "malformed-json",
    touches: () => [],
    noWalletFor: ghostHasNone,
  },
  ...['"currency":"JPY"', '"__proto__":{"fromWalletId":"x"}', '"status":"COMPLETED"'].map(
    (member): Case => ({
      name: `transfer with unknown member ${member.slice(0, 20)}`,
      path: transferPath,
      body: (f: Fixture) =>
        `{"fromWalletId":"${f.alice.walletId}","toWalletId":"${f.bob.walletId}","amount":"1.00",${member}}`,
      code: "validation-error",
      touches: aliceToBob,
    }),
  ),
  {
    name: "transfer with duplicate toWalletId",
    path: transferPath,
    body: (f: Fixture) =>
      `{"fromWalletId":"${f.alice.walletId}","toWalletId":"${f.bob.walletId}","toWalletId":"${f.carol.walletId}","amount":"1.00"}`,
    code: "malformed-json",
    touches: (f) => [f.alice.walletId, f.bob.walletId, f.carol.walletId],
  },
];

const padTo = (json: string, size: number) => json + " ".repeat(size - Buffer.byteLength(json));
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

const sizesAndEncodings: Case[] = [
  {
    name: "body of 16 KiB + 1 byte",
    path: deposit,
    body: padTo('{"amount":"1.00"}', 16 * 1024 + 1),
    code: "payload-too-large",
  },
  {
    name: "body of exactly 16 KiB is read (and refused for its amount, not its size)",
    path: deposit,
    body: padTo('{"amount":"abc"}', 16 * 1024),
    code: "invalid-amount",
  },
  {
    name: "body of 1 MiB",
    path: deposit,
    body: JSON.stringify({ amount: "1.00", reference: long(1024 * 1024) }),
    code: "payload-too-large",
  },
  {
    name: "chunked body of 40 KiB without Content-Length",
    path: deposit,
    body: padTo('{"amount":"1.00"}', 40 * 1024),
    chunked: true,
    code: "payload-too-large",
  },
  {
    name: "create with a 20 KiB body",
    path: createPath,
    auth: asOperator,
    body: (_f: Fixture, ghost: string) => padTo(`{"userId":"${ghost}"}`, 20 * 1024),
    code: "payload-too-large",
    touches: () => [],
    noWalletFor: ghostHasNone,
  },
  {
    name: "invalid UTF-8: a 0xFF byte",
    path: deposit,
    body: bytes('{"amount":"1.00","reference":"', [0xff], '"}'),
    code: "malformed-json",
  },
  {
    name: "invalid UTF-8: overlong '/'",
    path: deposit,
    body: bytes('{"amount":"1.00","reference":"', [0xc0, 0xaf], '"}'),
    code: "malformed-json",
  },
  {
    name: "invalid UTF-8: an encoded surrogate",
    path: deposit,
    body: bytes('{"amount":"1.00","reference":"', [0xed, 0xa0, 0x80], '"}'),
    code: "malformed-json",
  },
  {
    name: "invalid UTF-8: a truncated sequence at the end",
    path: deposit,
    body: bytes('{"amount":"1.00"}', [0xe2, 0x82]),
    code: "malformed-json",
  },
  {
    name: "invalid UTF-8 in a create body",
    path: createPath,
    auth: asOperator,
    body: (_f: Fixture, ghost: string) => bytes(`{"userId":"${ghost}","currency":"`, [0xff], '"}'),
    code: "malformed-json",
    touches: () => [],
    noWalletFor: ghostHasNone,
  },
  ...[null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"].map(
    (contentType): Case => ({
      name: `deposit with content-type ${contentType ?? "(none)"}`,
      path: deposit,
      body: contentType === "application/x-www-form-urlencoded" ? "amount=1.00" : '{"amount":"1.00"}',
      contentType,
      code: "unsupported-media-type",
    }),
  ),
  ...[
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "application/jsonx",
    "text/json",
    "application/json-patch+json",
  ].map(
    (contentType): Case => ({
      name: `deposit with content-type ${contentType}`,
      path: deposit,
      body: '{"amount":"1.00"}',
      contentType,
      code: "unsupported-media-type",
    }),
  ),
  {
    name: "create as text/plain",
    path: createPath,
    auth: asOperator,
    body: (_f: Fixture, ghost: string) => `{"userId":"${ghost}"}`,
    contentType: "text/plain",
    code: "unsupported-media-type",
    touches: () => [],
    noWalletFor: ghostHasNone,
  },
];

const ids: Case[] = [
  {
    name: "deposit to a 200-character wallet id",
    path: () => `${API}/wallets/${long(200, "A")}/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "deposit to an id with an encoded slash",
    path: (f) => `${API}/wallets/..%2F${f.alice.walletId}/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "deposit to alice%2F..%2Fbob",
    path: (f) => `${API}/wallets/${f.alice.walletId}%2F..%2F${f.bob.walletId}/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
    touches: aliceToBob,
  },
  {
    name: "deposit to a unicode id",
    path: () => `${API}/wallets/%C3%A9t%C3%A9/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "deposit to an id with a NUL",
    path: (f) => `${API}/wallets/${f.alice.walletId}%00/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "deposit to an id with a trailing space",
    path: (f) => `${API}/wallets/${f.alice.walletId}%20/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "deposit to the lower-cased id (ids are opaque)",
    path: (f) => `${API}/wallets/${f.alice.walletId.toLowerCase()}/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "deposit to a malformed percent-encoding",
    path: () => `${API}/wallets/%E0%A4%A/deposit`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "read a lone percent sign as wallet id",
    method: "GET",
    path: () => `${API}/wallets/%`,
    code: "wallet-not-found",
  },
  {
    name: "deposit to an empty id",
    path: () => `${API}/wallets//deposit`,
    body: { amount: "1.00" },
    code: "not-found",
  },
  {
    name: "withdraw from an unknown wallet",
    path: () => `${API}/wallets/${UNKNOWN_ID}/withdraw`,
    body: { amount: "1.00" },
    code: "wallet-not-found",
  },
  {
    name: "read a 200-character wallet id",
    method: "GET",
    path: () => `${API}/wallets/${long(200, "A")}`,
    code: "wallet-not-found",
  },
  {
    name: "read a wallet id with an encoded slash",
    method: "GET",
    path: (f) => `${API}/wallets/${f.alice.walletId}%2Faudit`,
    code: "wallet-not-found",
  },
  { name: "read a unicode wallet id", method: "GET", path: () => `${API}/wallets/%E2%82%AC`, code: "wallet-not-found" },
  { name: "read an empty transfer id", method: "GET", path: () => `${API}/transfers/`, code: "not-found" },
  {
    name: "read a transfer id with an encoded slash",
    method: "GET",
    path: (f) => `${API}/transfers/..%2F${f.transferId}`,
    code: "transfer-not-found",
  },
  {
    name: "read a 300-character transfer id",
    method: "GET",
    path: () => `${API}/transfers/${long(300, "B")}`,
    code: "transfer-not-found",
  },
  {
    name: "read a unicode transaction id",
    method: "GET",
    path: alicePath("/transactions/%F0%9F%92%B0"),
    code: "transaction-not-found",
  },
  {
    name: "read a 200-character transaction id",
    method: "GET",
    path: alicePath(`/transactions/${long(200, "C")}`),
    code: "transaction-not-found",
  },
  {
    name: "transfer from an unknown wallet",
    path: transferPath,
    body: (f: Fixture) => ({ fromWalletId: UNKNOWN_ID, toWalletId: f.bob.walletId, amount: "1.00" }),
    code: "wallet-not-found",
    touches: aliceToBob,
  },
  {
    name: "transfer to an unknown wallet",
    path: transferPath,
    body: (f: Fixture) => ({ fromWalletId: f.alice.walletId, toWalletId: UNKNOWN_ID, amount: "1.00" }),
    code: "wallet-not-found",
  },
  {
    name: "transfer to the same wallet",
    path: transferPath,
    body: (f: Fixture) => ({ fromWalletId: f.alice.walletId, toWalletId: f.alice.walletId, amount: "1.00" }),
    code: "same-wallet-transfer",
  },
  {
    name: "transfer to another currency",
    path: transferPath,
    body: (f: Fixture) => ({ fromWalletId: f.alice.walletId, toWalletId: f.yen.walletId, amount: "1" }),
    code: "currency-mismatch",
    touches: (f) => [f.alice.walletId, f.yen.walletId],
  },
  {
    name: "transfer more than the balance",
    path: transferPath,
    body: (f: Fixture) => ({ fromWalletId: f.alice.walletId, toWalletId: f.bob.walletId, amount: "94.01" }),
    code: "insufficient-funds",
    touches: aliceToBob,
  },
  {
    name: "withdraw more than the balance",
    path: withdraw,
    body: { amount: "1000000000" },
    code: "insufficient-funds",
  },
];

const BAD_TIMESTAMPS = [
  "yesterday",
  "2026-02-30T00:00:00Z",
  "2026-01-01",
  "2026-01-01T00:00:00",
  "2026-13-01T00:00:00Z",
  "2026-01-01T25:00:00Z",
  "2026-01-01T00:61:00Z",
  "2026-01-01T00:00:00+25:00",
  "1700000000",
  "",
  "2026-01-01T00:00:00ZZ",
  "2026-W01",
];

const queries: Case[] = [
  ...["0", "201", "-1", "abc", "1.5", "", "1e2", "99999", "%20%35"].map(
    (limit): Case => ({
      name: `transactions limit=${limit}`,
      method: "GET",
      path: alicePath(`/transactions?limit=${limit}`),
      code: "validation-error",
    }),
  ),
  {
    name: "transactions with two limits",
    method: "GET",
    path: alicePath("/transactions?limit=1&limit=2"),
    code: "validation-error",
  },
  ...[
    "!!!",
    "",
    "%E0%A4",
    long(600, "A"),
    b64url({ w: "x", t: 0, s: 1 }),
    b64url({ s: 0 }),
    b64url([1, 2]),
    "eyJ3Ijp",
  ].map(
    (cursor): Case => ({
      name: `transactions cursor ${cursor.slice(0, 20)}`,
      method: "GET",
      path: alicePath(`/transactions?cursor=${encodeURIComponent(cursor)}`),
      code: "validation-error",
    }),
  ),
  {
    name: "transactions with another wallet's cursor",
    method: "GET",
    path: (f) => `${API}/wallets/${f.alice.walletId}/transactions?cursor=${encodeURIComponent(f.cursorOfBob)}`,
    code: "validation-error",
  },
  ...BAD_TIMESTAMPS.flatMap((t): Case[] => [
    {
      name: `historical timestamp ${JSON.stringify(t)}`,
      method: "GET",
      path: alicePath(`/balance/historical?timestamp=${encodeURIComponent(t)}`),
      code: "validation-error",
    },
    {
      name: `transactions from=${JSON.stringify(t)}`,
      method: "GET",
      path: alicePath(`/transactions?from=${encodeURIComponent(t)}`),
      code: "validation-error",
    },
  ]),
  {
    name: "transactions to=2026-02-30T00:00:00Z",
    method: "GET",
    path: alicePath("/transactions?to=2026-02-30T00%3A00%3A00Z"),
    code: "validation-error",
  },
  {
    name: "historical without timestamp",
    method: "GET",
    path: alicePath("/balance/historical"),
    code: "validation-error",
  },
  {
    name: "historical at the end of time",
    method: "GET",
    path: alicePath("/balance/historical?timestamp=9999-12-31T23%3A59%3A59Z"),
    code: "timestamp-in-future",
  },
  ...[long(129, "u"), "a%20b", "j%C3%B3zef", "", "a%2Fb", "%ZZ", "%", "a%00b"].map(
    (userId): Case => ({
      name: `find wallets userId=${userId.slice(0, 20)}`,
      method: "GET",
      path: () => `${API}/wallets?userId=${userId}`,
      auth: asOperator,
      code: "validation-error",
    }),
  ),
  {
    name: "find wallets with two userIds",
    method: "GET",
    path: (f) => `${API}/wallets?userId=${f.mallory.userId}&userId=${f.alice.userId}`,
    auth: (f) => bearer(f.mallory.token),
    code: "validation-error",
  },
];

const idempotencyKeys: Case[] = [
  ["256 characters", long(256, "k")],
  ["a Latin-1 character", "cl\u00e9"],
  ["a tab", "a\tb"],
  ["empty", ""],
].map(
  ([name, key]) =>
    ({
      name: `Idempotency-Key ${name}`,
      path: deposit,
      body: { amount: "1.00" },
      headers: () => ({ "idempotency-key": key }),
      code: "validation-error",
      errorDetail: "must be 1..255 printable ASCII characters",
    }) as Case,
);
idempotencyKeys.push({
  name: "Idempotency-Key of 256 characters on create",
  path: createPath,
  auth: asOperator,
  body: (_f: Fixture, ghost: string) => ({ userId: ghost }),
  headers: () => ({ "idempotency-key": long(256, "k") }),
  code: "validation-error",
  touches: () => [],
  noWalletFor: ghostHasNone,
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (f: Fixture, extra: Record<string, unknown> = {}) => ({
  sub: f.alice.userId,
  scope: "wallet",
  iat: now(),
  exp: now() + 600,
  ...extra,
});

const tokenCases: [string, (f: Fixture) => string | null, ProblemCode][] = [
  ["no Authorization header", () => null, "unauthenticated"],
  ["the bare scheme", () => "Bearer", "unauthenticated"],
  ["an empty bearer token", () => "Bearer ", "unauthenticated"],
  ["Basic credentials", () => `Basic ${Buffer.from("alice:pw").toString("base64")}`, "unauthenticated"],
  ["a valid token under another scheme", (f) => `Token ${f.alice.token}`, "unauthenticated"],
  ["a valid token without a scheme", (f) => f.alice.token, "unauthenticated"],
  ["garbage", () => "Bearer garbage", "unauthenticated"],
  ["three empty-ish parts", () => "Bearer a.b.c", "unauthenticated"],
  ["alg none", (f) => bearer(signJwt(claims(f), { alg: "none" })), "unauthenticated"],
  [
    "alg none, upper case",
    (f) => bearer(signJwt(claims(f), { alg: "none", header: { alg: "NONE" } })),
    "unauthenticated",
  ],
  [
    "another secret",
    (f) => bearer(signJwt(claims(f), { secret: "not-the-secret-but-long-enough-000000" })),
    "unauthenticated",
  ],
  ["HS512 with the right secret", (f) => bearer(signJwt(claims(f), { alg: "HS512" })), "unauthenticated"],
  [
    "a tampered payload (bob's signature, alice's sub)",
    (f) => {
      const [head, , sig] = f.bob.token.split(".");
      return bearer(`${head}.${b64url(claims(f))}.${sig}`);
    },
    "unauthenticated",
  ],
  [
    "a tampered payload (alice's token raised to operator)",
    (f) => {
      const [head, , sig] = f.alice.token.split(".");
      return bearer(`${head}.${b64url(claims(f, { scope: "wallet:operator" }))}.${sig}`);
    },
    "unauthenticated",
  ],
  ["a stripped signature", (f) => bearer(f.alice.token.split(".").slice(0, 2).join(".")), "unauthenticated"],
  ["expired", (f) => bearer(signJwt(claims(f, { iat: now() - 7200, exp: now() - 3600 }))), "unauthenticated"],
  ["not yet valid", (f) => bearer(signJwt(claims(f, { nbf: now() + 3600 }))), "unauthenticated"],
  ["without exp", (f) => bearer(signJwt({ sub: f.alice.userId, scope: "wallet", iat: now() })), "unauthenticated"],
  ["without sub", () => bearer(signJwt({ scope: "wallet", iat: now(), exp: now() + 600 })), "unauthenticated"],
  ["with a 129-character sub", (f) => bearer(signJwt(claims(f, { sub: long(129, "a") }))), "unauthenticated"],
  ["with a numeric sub", (f) => bearer(signJwt(claims(f, { sub: 42 }))), "unauthenticated"],
  ["valid but without any scope", (f) => bearer(signJwt(claims(f, { scope: "" }))), "forbidden"],
  [
    "valid with scope as an array",
    (f) => bearer(signJwt(claims(f, { sub: f.mallory.userId, scope: ["wallet:operator"] }))),
    "forbidden",
  ],
  [
    "valid with a mis-cased operator scope",
    (f) => bearer(signJwt(claims(f, { sub: f.mallory.userId, scope: "wallet:Operator" }))),
    "forbidden",
  ],
  [
    "valid with a look-alike scope",
    (f) => bearer(signJwt(claims(f, { sub: f.mallory.userId, scope: "wallet:operatorx wallet:" }))),
    "forbidden",
  ],
  [
    "valid for the user id in another case",
    (f) => bearer(signJwt(claims(f, { sub: f.alice.userId.toUpperCase() }))),
    "forbidden",
  ],
];

const tokens: Case[] = [
  ...tokenCases.map(
    ([name, auth, code]): Case => ({
      name: `deposit with ${name}`,
      path: deposit,
      body: { amount: "1.00" },
      auth,
      code,
    }),
  ),
  ...tokenCases
    .filter(([, , code]) => code === "unauthenticated")
    .slice(0, 8)
    .map(
      ([name, auth, code]): Case => ({
        name: `transfer with ${name}`,
        path: transferPath,
        body: (f: Fixture) => ({ fromWalletId: f.alice.walletId, toWalletId: f.bob.walletId, amount: "1.00" }),
        auth,
        code,
        touches: aliceToBob,
      }),
    ),
  {
    name: "create with an expired token",
    path: createPath,
    body: (_f: Fixture, ghost: string) => ({ userId: ghost }),
    auth: (f) => bearer(signJwt(claims(f, { scope: "wallet:operator", iat: now() - 7200, exp: now() - 3600 }))),
    code: "unauthenticated",
    touches: () => [],
    noWalletFor: ghostHasNone,
  },
  {
    name: "identity claimed by header only",
    path: deposit,
    body: { amount: "1.00" },
    auth: () => null,
    headers: (f) => ({ "x-user-id": f.alice.userId, "x-principal": f.alice.userId, "x-scopes": "wallet:operator" }),
    code: "unauthenticated",
  },
  {
    name: "token in the query string",
    path: (f) => `${deposit(f)}?access_token=${f.alice.token}`,
    body: { amount: "1.00" },
    auth: () => null,
    code: "unauthenticated",
  },
];

const asBob = (f: Fixture) => bearer(f.bob.token);
const transferOutOfAlice = (f: Fixture) => ({
  fromWalletId: f.alice.walletId,
  toWalletId: f.bob.walletId,
  amount: "1.00",
});

const someoneElses: Case[] = [
  { name: "bob reads alice's wallet", method: "GET", path: alicePath(""), auth: asBob, code: "forbidden" },
  {
    name: "bob lists alice's transactions",
    method: "GET",
    path: alicePath("/transactions"),
    auth: asBob,
    code: "forbidden",
  },
  {
    name: "bob reads one of alice's transactions",
    method: "GET",
    path: (f) => `${alicePath("/transactions/")(f)}${f.aliceTransactionId}`,
    auth: asBob,
    code: "forbidden",
  },
  {
    name: "bob reads alice's historical balance",
    method: "GET",
    path: alicePath("/balance/historical?timestamp=2020-01-01T00%3A00%3A00Z"),
    auth: asBob,
    code: "forbidden",
  },
  { name: "bob audits alice's wallet", method: "GET", path: alicePath("/audit"), auth: asBob, code: "forbidden" },
  {
    name: "bob finds alice's wallet by user",
    method: "GET",
    path: (f) => `${API}/wallets?userId=${f.alice.userId}`,
    auth: asBob,
    code: "forbidden",
  },
  {
    name: "bob reads the transfer between alice and carol",
    method: "GET",
    path: (f) => `${API}/transfers/${f.transferId}`,
    auth: asBob,
    code: "forbidden",
  },
  { name: "bob deposits to alice", path: deposit, body: { amount: "1.00" }, auth: asBob, code: "forbidden" },
  { name: "bob withdraws from alice", path: withdraw, body: { amount: "1.00" }, auth: asBob, code: "forbidden" },
  {
    name: "bob transfers out of alice's wallet to his",
    path: transferPath,
    body: transferOutOfAlice,
    auth: asBob,
    code: "forbidden",
    touches: aliceToBob,
  },
  {
    name: "bob transfers out of alice's wallet to carol",
    path: transferPath,
    body: (f: Fixture) => ({ fromWalletId: f.alice.walletId, toWalletId: f.carol.walletId, amount: "1.00" }),
    auth: asBob,
    code: "forbidden",
    touches: (f) => [f.alice.walletId, f.carol.walletId],
  },
  {
    name: "bob transfers out of alice's wallet with an idempotency key",
    path: transferPath,
    body: transferOutOfAlice,
    auth: asBob,
    headers: () => ({ "idempotency-key": "steal-1" }),
    code: "forbidden",
    touches: aliceToBob,
  },
  {
    name: "bob creates a wallet for alice (who has one)",
    path: createPath,
    body: (f: Fixture) => ({ userId: f.alice.userId }),
    auth: asBob,
    code: "forbidden",
    touches: () => [],
  },
  {
    name: "bob creates a wallet for a new user",
    path: createPath,
    body: (_f: Fixture, ghost: string) => ({ userId: ghost }),
    auth: asBob,
    code: "forbidden",
    touches: () => [],
    noWalletFor: ghostHasNone,
  },
  {
    name: "mallory (no wallet) withdraws from alice",
    path: withdraw,
    body: { amount: "1.00" },
    auth: (f) => bearer(f.mallory.token),
    code: "forbidden",
  },
  {
    name: "an operator transfers out of alice's wallet",
    path: transferPath,
    body: transferOutOfAlice,
    auth: asOperator,
    code: "forbidden",
    touches: aliceToBob,
  },
  {
    name: "an operator+auditor transfers out of alice's wallet",
    path: transferPath,
    body: transferOutOfAlice,
    auth: () =>
      bearer(signJwt({ sub: "ops-2", scope: "wallet:operator wallet:auditor", iat: now(), exp: now() + 600 })),
    code: "forbidden",
    touches: aliceToBob,
  },
  {
    name: "an auditor deposits",
    path: deposit,
    body: { amount: "1.00" },
    auth: (f) => bearer(f.auditor),
    code: "forbidden",
  },
  {
    name: "an auditor withdraws",
    path: withdraw,
    body: { amount: "1.00" },
    auth: (f) => bearer(f.auditor),
    code: "forbidden",
  },
  {
    name: "an auditor transfers",
    path: transferPath,
    body: transferOutOfAlice,
    auth: (f) => bearer(f.auditor),
    code: "forbidden",
    touches: aliceToBob,
  },
  {
    name: "an auditor creates a wallet",
    path: createPath,
    body: (_f: Fixture, ghost: string) => ({ userId: ghost }),
    auth: (f) => bearer(f.auditor),
    code: "forbidden",
    touches: () => [],
    noWalletFor: ghostHasNone,
  },
];

const methods: Case[] = [
  { name: "PUT on deposit", method: "PUT", path: deposit, body: { amount: "1.00" }, code: "method-not-allowed" },
  {
    name: "PATCH on a wallet with a balance",
    method: "PATCH",
    path: alicePath(""),
    body: { balance: "1000000.00" },
    code: "method-not-allowed",
  },
  {
    name: "PUT on a wallet with a balance",
    method: "PUT",
    path: alicePath(""),
    body: { balance: "1000000.00" },
    code: "method-not-allowed",
  },
  {
    name: "POST on a wallet with a balance",
    method: "POST",
    path: alicePath(""),
    body: { balance: "1000000.00" },
    code: "method-not-allowed",
  },
  { name: "DELETE on a wallet", method: "DELETE", path: alicePath(""), code: "method-not-allowed" },
  {
    name: "DELETE on a transaction",
    method: "DELETE",
    path: (f) => `${alicePath("/transactions/")(f)}${f.aliceTransactionId}`,
    code: "method-not-allowed",
  },
  {
    name: "PUT on a transaction",
    method: "PUT",
    path: (f) => `${alicePath("/transactions/")(f)}${f.aliceTransactionId}`,
    body: { amount: "1000.00" },
    code: "method-not-allowed",
  },
  { name: "GET on transfer", method: "GET", path: transferPath, code: "method-not-allowed" },
  {
    name: "DELETE on a transfer",
    method: "DELETE",
    path: (f) => `${API}/transfers/${f.transferId}`,
    auth: asOperator,
    code: "method-not-allowed",
    touches: (f) => [f.alice.walletId, f.carol.walletId],
  },
];

const GROUPS: [string, Case[]][] = [
  ["malformed and non-object bodies", [...malformedBodies, ...nonObjectBodies]],
  ["amounts", amounts],
  ["wrong types and limits of fields", fieldTypes],
  ["unknown and duplicate members", unknownMembers],
  ["sizes, encodings and media types", sizesAndEncodings],
  ["ids, refusals and unknown wallets", ids],
  ["query parameters", queries],
  ["idempotency keys", idempotencyKeys],
  ["tokens", tokens],
  ["someone else's wallet", someoneElses],
  ["methods", methods],
];

// ---------------------------------------------------------------------------------------------

interface Sent {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: problem bodies are checked member by member
  body: any;
}

describe.each(ADAPTERS)("hostile input changes nothing (%s store)", (adapter) => {
  let testStore: TestStore;
  let cell: InProcessCell;
  let f: Fixture;
  let ghosts = 0;
  let sent = 0;
  const serverErrors: string[] = [];
  /** What each wallet looked like after the fixture was built. */
  const initial = new Map<string, unknown>();
  /** What each wallet looked like when last observed: a case that fails does not fail every later one. */
  const current = new Map<string, unknown>();

  async function send(
    method: string,
    path: string,
    options: {
      auth?: string | null;
      body?: unknown;
      contentType?: string | null;
      headers?: Record<string, string>;
      chunked?: boolean;
    } = {},
  ): Promise<Sent> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth) headers.authorization = options.auth;
    let body: RequestInit["body"];
    if (options.body !== undefined) {
      body =
        typeof options.body === "string"
          ? options.body
          : options.body instanceof Uint8Array
            ? options.body
            : JSON.stringify(options.body);
      const contentType = options.contentType === undefined ? "application/json" : options.contentType;
      if (contentType !== null) headers["content-type"] = contentType;
      if (options.chunked) {
        const payload = new TextEncoder().encode(String(body));
        body = new ReadableStream({
          start(controller) {
            for (let i = 0; i < payload.length; i += 4096) controller.enqueue(payload.slice(i, i + 4096));
            controller.close();
          },
        });
      }
    }
    const init = {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(options.chunked ? { duplex: "half" } : {}),
    };
    const response = await fetch(`${cell.url}${path}`, init as RequestInit);
    const text = await response.text();
    sent += 1;
    if (response.status >= 500) serverErrors.push(`${method} ${path.slice(0, 120)} -> ${response.status} ${text}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  }

  async function ok(method: string, path: string, auth: string, body?: unknown): Promise<Sent> {
    const res = await send(method, path, { auth: bearer(auth), body });
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res;
  }

  async function party(userId: string, currency: string, amount?: string): Promise<Party> {
    const t = await token(userId);
    const created = await ok("POST", `${API}/wallets`, t, { userId, currency });
    const walletId: string = created.body.walletId;
    if (amount) await ok("POST", `${API}/wallets/${walletId}/deposit`, t, { amount });
    return { userId, token: t, walletId };
  }

  /**
   * A wallet as the store holds it (balance, version, head hash, times) and its whole ledger,
   * read straight from the store: cheaper than two HTTP reads, and it sees more than the API shows.
   */
  async function stored(walletId: string): Promise<unknown> {
    const [wallet, entries] = await Promise.all([
      testStore.store.getWallet(walletId),
      testStore.store.listEntries(walletId, { limit: 1000 }),
    ]);
    expect(wallet).toBeDefined();
    return { wallet, entries };
  }

  /** Everything a client can see of a wallet: the wallet itself and its whole ledger. */
  async function observe(walletId: string): Promise<unknown> {
    const [wallet, page] = await Promise.all([
      send("GET", `${API}/wallets/${walletId}`, { auth: bearer(f.operator) }),
      send("GET", `${API}/wallets/${walletId}/transactions?limit=200`, { auth: bearer(f.operator) }),
    ]);
    expect(wallet.status).toBe(200);
    expect(page.status).toBe(200);
    return { wallet: wallet.body, transactions: page.body };
  }

  beforeAll(async () => {
    testStore = await openTestStore(adapter, motoEndpoint);
    cell = await startInProcessCell(testStore.store);
    const operator = await token("ops-1", "wallet:operator");
    f = {
      alice: await party("alice", "USD", "100.00"),
      bob: await party("bob", "USD", "10.00"),
      carol: await party("carol", "USD"),
      yen: await party("kenji", "JPY", "1000"),
      dinar: await party("fatima", "BHD", "1.000"),
      mallory: { userId: "mallory", token: await token("mallory") },
      operator,
      auditor: await token("audit-1", "wallet:auditor"),
      aliceTransactionId: "",
      transferId: "",
      cursorOfBob: "",
    };
    await ok("POST", `${API}/wallets/${f.alice.walletId}/withdraw`, f.alice.token, { amount: "1.00", reference: "x" });
    const transfer = await ok("POST", `${API}/wallets/transfer`, f.alice.token, {
      fromWalletId: f.alice.walletId,
      toWalletId: f.carol.walletId,
      amount: "5.00",
    });
    f.transferId = transfer.body.transferId;
    await ok("POST", `${API}/wallets/${f.bob.walletId}/deposit`, f.bob.token, { amount: "1.00" });
    const bobPage = await ok("GET", `${API}/wallets/${f.bob.walletId}/transactions?limit=1`, f.bob.token);
    f.cursorOfBob = bobPage.body.nextCursor;
    const alicePage = await ok("GET", `${API}/wallets/${f.alice.walletId}/transactions`, f.alice.token);
    f.aliceTransactionId = alicePage.body.items[0].transactionId;
    expect(alicePage.body.items.map((t: { balanceAfter: string }) => t.balanceAfter)).toEqual([
      "94.00",
      "99.00",
      "100.00",
    ]);
    for (const p of [f.alice, f.bob, f.carol, f.yen, f.dinar]) {
      initial.set(p.walletId, await observe(p.walletId));
      current.set(p.walletId, await stored(p.walletId));
    }
  });

  afterAll(async () => {
    await cell?.close();
    await testStore?.store.close();
  });

  for (const [group, cases] of GROUPS) {
    describe(group, () => {
      for (const c of cases) {
        it(c.name, async () => {
          const ghost = `ghost-${++ghosts}`;
          const body = typeof c.body === "function" ? c.body(f, ghost) : c.body;
          const res = await send(c.method ?? "POST", c.path(f), {
            auth: c.auth ? c.auth(f) : bearer(f.alice.token),
            ...(body !== undefined ? { body } : {}),
            ...(c.contentType !== undefined ? { contentType: c.contentType } : {}),
            ...(c.headers ? { headers: c.headers(f) } : {}),
            ...(c.chunked ? { chunked: true } : {}),
          });

          // Observe first, so that a failing case cannot make the cases after it fail too.
          const touched = c.touches ? c.touches(f) : [f.alice.walletId];
          const before = touched.map((walletId) => current.get(walletId));
          const after = await Promise.all(touched.map(stored));
          touched.forEach((walletId, i) => {
            current.set(walletId, after[i]);
          });
          const createdFor = c.noWalletFor?.(f, ghost);
          const created = createdFor === undefined ? undefined : await testStore.store.getWalletIdByUser(createdFor);

          const { status, title } = PROBLEM_TYPES[c.code];
          expect(res.status, res.text.slice(0, 400)).toBe(status);
          expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json(;|$)/);
          expect(res.body).toMatchObject({ type: `/problems/${c.code}`, title, status, code: c.code });
          expect(typeof res.body.detail).toBe("string");
          expect(res.body.requestId).toBe(res.headers.get("x-request-id"));
          if (c.code === "validation-error") expect(res.body.errors?.length, res.text).toBeGreaterThan(0);
          if (c.errorDetail) expect(res.body.errors?.[0]?.detail, res.text).toBe(c.errorDetail);
          if (c.code === "method-not-allowed") expect(res.headers.get("allow")).toBeTruthy();
          touched.forEach((walletId, i) => {
            expect(after[i], `wallet ${walletId} changed`).toEqual(before[i]);
          });
          expect(created, `a wallet was created for ${createdFor}`).toBeUndefined();
        });
      }
    });
  }

  it("after everything, every wallet is exactly as it was and its chain still verifies", async () => {
    for (const p of [f.alice, f.bob, f.carol, f.yen, f.dinar]) {
      expect(await observe(p.walletId)).toEqual(initial.get(p.walletId));
      const audit = await send("GET", `${API}/wallets/${p.walletId}/audit`, { auth: bearer(f.auditor) });
      expect(audit.body).toMatchObject({ valid: true, firstInvalidSequence: null });
    }
    const mallory = await send("GET", `${API}/wallets?userId=mallory`, { auth: bearer(f.operator) });
    expect(mallory.body).toEqual({ items: [] });
  });

  it("no request of the suite was answered with a 5xx", () => {
    expect(sent).toBeGreaterThan(300);
    expect(serverErrors).toEqual([]);
  });
});
