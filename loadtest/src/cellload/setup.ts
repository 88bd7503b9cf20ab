import { randomBytes } from "node:crypto";
import { minorFromFormatted } from "@cellwallet/contract";
import type { PlacementStore } from "@cellwallet/placement";
import { Books } from "../bench/book.js";
import { seedWallets } from "../bench/fixtures.js";
import { call, forEachLimited } from "../bench/http.js";
import { prng } from "../bench/scenarios.js";
import { UsageError } from "./options.js";
import { openPinStore } from "./placement-pin.js";
import { cellOf, type Scenario, type ScenarioContext, type VirtualUser } from "./scenario.js";
import type { TokenSource } from "./tokens.js";
import { planUsers } from "./user-plan.js";

/**
 * Before the measured phase: the target answers, the virtual users exist (pinned
 * to --cell when asked), wallets in other cells exist for cross-cell scenarios,
 * and money scenarios' wallets are funded through the books. Anything that makes
 * the run meaningless is a UsageError (exit 2), said in one line.
 */
export interface SetupOptions {
  target: string;
  cell: string | undefined;
  users: number;
  scenario: Scenario;
  tokens: TokenSource;
  env: NodeJS.ProcessEnv;
  seed: number;
  /** How many brand-new users the run will probably onboard (pre-pinned under --cell). */
  expectedFreshUsers: number;
  log: (line: string) => void;
}

export interface Prepared {
  ctx: ScenarioContext;
  books: Books;
  kind: "router" | "cell";
  /** Why the scenario's cross-cell part does not run (see user-plan.ts); undefined when it runs or there is none. */
  crossCellSkipped: string | undefined;
  close(): Promise<void>;
}

/** GET /metrics: the target answers, and whether it is a router or a cell. Unreachable → UsageError. */
export async function probeTarget(target: string): Promise<"router" | "cell"> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${target}/metrics`, { signal: AbortSignal.timeout(5000) });
    text = await res.text();
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    throw new UsageError(
      `target ${target} unreachable: ${e.cause?.code ?? (e.cause as Error | undefined)?.message ?? e.message}`,
    );
  }
  // It answered, so it is reachable: a 401 or 404 here mostly means a URL with a path where the base URL belongs.
  if (res.status !== 200) {
    throw new UsageError(
      `target ${target} answered GET /metrics with ${res.status}: --target is a router's or cell's base URL, e.g. http://127.0.0.1:8080`,
    );
  }
  if (text.includes("cellwallet_router_")) return "router";
  if (text.includes("cellwallet_wallet_operations_total")) return "cell";
  throw new UsageError(`target ${target} is neither a Cellwallet router nor a cell (its /metrics names neither)`);
}

export async function prepare(o: SetupOptions): Promise<Prepared> {
  if (o.tokens.fixedUsers && o.scenario.newUsers) {
    throw new UsageError(
      `${o.scenario.name} onboards new users: it needs minted tokens (WALLET_JWT_SECRET), not --token-file`,
    );
  }
  const kind = await probeTarget(o.target);
  const runId = randomBytes(4).toString("hex");
  const books = new Books();
  const random = prng(o.seed);
  const operatorToken = await o.tokens.operator();
  let pin: { store: PlacementStore; where: string } | undefined;
  if (o.cell !== undefined && kind === "router") {
    pin = openPinStore(o.env);
    if (!pin) {
      throw new UsageError(
        "--cell through a router pins users with placement overrides: set PLACEMENT_SQLITE_PATH (or PLACEMENT_STORE=dynamodb) as for cellctl, or target the cell's URL directly",
      );
    }
    const cell = await pin.store.getCell(o.cell);
    if (!cell || cell.state === "retired") {
      await pin.store.close();
      throw new UsageError(`--cell ${o.cell}: no such cell in ${pin.where}`);
    }
  }
  const close = async () => {
    await pin?.store.close();
  };
  try {
    const plan = await planUsers({
      scenario: o.scenario,
      kind,
      cell: o.cell,
      fixedUsers: o.tokens.fixedUsers,
      store: pin?.store,
      log: o.log,
    });
    let sequence = 0;
    const nextUserId = () => `cl-${runId}-${(sequence++).toString().padStart(5, "0")}`;
    const pinTo = async (userIds: string[], cellId: string) => {
      if (pin) await forEachLimited(userIds, 8, (u) => pin.store.setOverride(u, cellId));
    };
    const create = (userIds: string[]) => createVirtualUsers(o.target, books, operatorToken, o.tokens, userIds);

    const vuIds = plan.vuIds ?? Array.from({ length: o.users }, nextUserId);
    if (o.cell !== undefined) await pinTo(vuIds, o.cell);
    const vus = await create(vuIds);
    if (o.cell !== undefined) {
      const stray = vus.find((v) => v.cellId !== o.cell);
      if (stray)
        throw new UsageError(
          `--cell ${o.cell}: wallet ${stray.walletId} landed in ${stray.cellId} (is the target that cell?)`,
        );
    }

    const newIds: string[] = [];
    for (const cellId of plan.counterpartyCells) {
      const some = Array.from({ length: 4 }, nextUserId);
      await pinTo(some, cellId);
      newIds.push(...some);
    }
    const counterparties = plan.counterpartiesAreVus ? vus : await create([...plan.counterpartyIds, ...newIds]);
    let crossCellSkipped = plan.crossCellSkipped;
    if (plan.counterpartiesAreVus && !vus.some((v) => vus.some((c) => c.cellId !== v.cellId))) {
      crossCellSkipped = `every virtual user's wallet is in ${vus[0]?.cellId} (more --users, or a second active cell)`;
      if (o.scenario.crossCell === "required")
        throw new UsageError(`${o.scenario.name} needs a wallet in another cell: ${crossCellSkipped}`);
    }
    if (crossCellSkipped !== undefined) o.log(`cellload: cross-cell transfers skipped: ${crossCellSkipped}`);
    if (o.scenario.money) {
      const unfunded = [...vus, ...counterparties.filter((c) => !vus.includes(c))];
      await seedWallets(o.target, books, operatorToken, unfunded);
    }

    const fresh: string[] = [];
    if (pin && o.cell !== undefined) {
      fresh.push(...Array.from({ length: Math.min(o.expectedFreshUsers, 5000) }, nextUserId));
      await pinTo(fresh, o.cell);
    }
    const ctx: ScenarioContext = {
      vus,
      counterparties,
      drivenCell: o.cell,
      random,
      books,
      operatorToken,
      newKey: (k) => `cl-${runId}-${k}-${(sequence++).toString(36)}`,
      tokenFor: (userId) => o.tokens.user(userId),
      async freshUser() {
        if (o.tokens.fixedUsers) throw new Error("a token file names fixed users: this scenario needs new ones");
        const ready = fresh.shift();
        if (ready !== undefined) return ready;
        const userId = nextUserId();
        if (o.cell !== undefined) await pinTo([userId], o.cell);
        return userId;
      },
    };
    return { ctx, books, kind, crossCellSkipped, close };
  } catch (error) {
    await close();
    // A setup that failed is never "the books disagree" (exit 1): one line, exit 2.
    if (error instanceof UsageError) throw error;
    throw new UsageError(`setup: ${(error as Error).message.split("\n")[0]}`);
  }
}

/**
 * Creates each user's wallet with the operator token; an existing wallet (409, a
 * token file's users on a second run) joins the books at its current balance and version.
 */
async function createVirtualUsers(
  target: string,
  books: Books,
  operatorToken: string,
  tokens: TokenSource,
  userIds: string[],
): Promise<VirtualUser[]> {
  const out: VirtualUser[] = [];
  await forEachLimited(userIds, 8, async (userId) => {
    const res = await call(target, "POST", "/api/v1/wallets", {
      token: operatorToken,
      body: JSON.stringify({ userId }),
    });
    if (res.status !== 201 && res.status !== 409) {
      throw new UsageError(
        `creating the wallet of ${userId}: HTTP ${res.status} ${res.body?.code ?? res.text.slice(0, 120)}`,
      );
    }
    const walletId = res.body?.walletId as string | undefined;
    if (typeof walletId !== "string")
      throw new UsageError(`creating the wallet of ${userId}: no walletId in the answer`);
    books.addWallet(walletId);
    if (res.status === 409) {
      const got = await call(target, "GET", `/api/v1/wallets/${encodeURIComponent(walletId)}`, {
        token: operatorToken,
      });
      const booked = books.wallets.get(walletId);
      if (got.status === 200 && booked) {
        booked.balance = minorFromFormatted(got.body.balance, got.body.currency);
        booked.entries = got.body.version;
        books.totals.seeded += booked.balance;
      }
    }
    out.push({ userId, walletId, token: await tokens.user(userId), cellId: cellOf(walletId) });
  });
  return out.sort((a, b) => a.userId.localeCompare(b.userId));
}
