import type { PlacementStore } from "@cellwallet/placement";
import { UsageError } from "./options.js";
import type { Scenario } from "./scenario.js";

/**
 * Which users a run drives and where its cross-cell counterparties come from, decided before setup writes
 * anything (no placement override, no wallet): a setup that cannot work is refused here, as a UsageError (exit 2),
 * while the platform is still untouched. A scenario whose cross-cell part is optional runs without it when no
 * wallet in another cell can be had, and the run's summary says why (`crossCellSkipped`).
 */
export interface UserPlan {
  /** The virtual users' ids (a token file's users, or undefined: the caller makes new ones). */
  vuIds: string[] | undefined;
  /** Token-file users already placed in other cells: the counterparties, never re-pinned. */
  counterpartyIds: string[];
  /** Cells to pin new counterparties to (minted tokens, --cell through a router). */
  counterpartyCells: string[];
  /** Counterparties are the virtual users themselves (placement spreads them over the cells). */
  counterpartiesAreVus: boolean;
  /** Why the scenario's cross-cell part cannot run; undefined when it can (or the scenario has none). */
  crossCellSkipped: string | undefined;
}

export interface PlanInput {
  scenario: Scenario;
  kind: "router" | "cell";
  cell: string | undefined;
  /** The token file's users; undefined when tokens are minted (new users can be made at will). */
  fixedUsers: string[] | undefined;
  /** The placement store when --cell goes through a router. */
  store: PlacementStore | undefined;
  log: (line: string) => void;
}

export async function planUsers(p: PlanInput): Promise<UserPlan> {
  const plan: UserPlan = {
    vuIds: p.fixedUsers,
    counterpartyIds: [],
    counterpartyCells: [],
    counterpartiesAreVus: false,
    crossCellSkipped: undefined,
  };
  if (p.fixedUsers && p.store && p.cell !== undefined) await splitTokenFileUsers(p, plan, p.store, p.cell);
  if (p.scenario.crossCell === undefined) return plan;
  plan.crossCellSkipped = await crossCellObstacle(p, plan);
  if (plan.crossCellSkipped !== undefined && p.scenario.crossCell === "required") {
    throw new UsageError(`${p.scenario.name} needs a wallet in another cell: ${plan.crossCellSkipped}`);
  }
  return plan;
}

/**
 * --cell through a router with a token file: a file's user already placed in another cell cannot be moved there by
 * an override (placement is sticky); it is a counterparty for a cross-cell scenario, otherwise left out. Every
 * other file user is pinned to --cell. Needs two users in the cell (transfers need a pair).
 */
async function splitTokenFileUsers(p: PlanInput, plan: UserPlan, store: PlacementStore, cell: string) {
  const here: string[] = [];
  const elsewhere: { userId: string; cellId: string }[] = [];
  for (const userId of p.fixedUsers ?? []) {
    const placed = await store.getUserPlacement(userId);
    if (placed && placed.cellId !== cell) elsewhere.push({ userId, cellId: placed.cellId });
    else here.push(userId);
  }
  if (here.length < 2) {
    throw new UsageError(
      `--cell ${cell}: the token file names ${here.length} user(s) that are or can be placed in ${cell} (need at least 2; ${elsewhere.length} already placed elsewhere)`,
    );
  }
  plan.vuIds = here;
  if (elsewhere.length === 0) return;
  const cells = [...new Set(elsewhere.map((e) => e.cellId))].join(", ");
  if (p.scenario.crossCell !== undefined) {
    plan.counterpartyIds = elsewhere.map((e) => e.userId);
    p.log(`cellload: ${elsewhere.length} token-file user(s) placed in ${cells}: the cross-cell counterparties`);
  } else {
    p.log(`cellload: left out ${elsewhere.length} token-file user(s) placed in ${cells}, not in ${cell}`);
  }
}

/** Why no wallet in another cell can be had (undefined: one can, or only creating the users will tell). */
async function crossCellObstacle(p: PlanInput, plan: UserPlan): Promise<string | undefined> {
  if (p.kind === "cell") return "the target is one cell's replica (target a router to cross cells)";
  if (p.cell === undefined) {
    // Placement spreads the users over the cells; whether it did is known once their wallets exist.
    plan.counterpartiesAreVus = true;
    return undefined;
  }
  if (p.fixedUsers) {
    return plan.counterpartyIds.length > 0
      ? undefined
      : `the token file names no user whose wallet is in a cell other than ${p.cell}`;
  }
  const others = (await p.store?.listCells())?.filter((c) => c.cellId !== p.cell && c.state === "active") ?? [];
  plan.counterpartyCells = others.map((c) => c.cellId);
  return others.length > 0 ? undefined : `no active cell other than ${p.cell}`;
}
