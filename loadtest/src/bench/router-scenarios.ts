import { asRequest, depositOp, transferOp } from "./fixtures.js";
import type { BenchWallet, BuiltRequest } from "./scenarios.js";

/** The router benchmark's request mixes: the bench-cell mix within one cell, and transfers between two. */

export interface Scenario {
  name: string;
  connections?: number;
  /** Builds the request generator from a seeded random source: the same seed gives the same mix. */
  build: (random: () => number) => () => BuiltRequest;
}

const pickFrom = (random: () => number, wallets: BenchWallet[]) =>
  wallets[Math.floor(random() * wallets.length)] as BenchWallet;

/** Same-cell scenarios over `wallets` (all in one cell): the bench-cell mix. */
export function sameCellScenarios(wallets: BenchWallet[], operator: string): Scenario[] {
  const deposit = (random: () => number) => () =>
    // 0.01 .. 100.00, each with its own Idempotency-Key.
    asRequest(depositOp(pickFrom(random, wallets), operator, BigInt(1 + Math.floor(random() * 10_000)), "deposit"));
  const get = (random: () => number) => () => {
    const wallet = pickFrom(random, wallets);
    return { method: "GET" as const, path: `/api/v1/wallets/${wallet.walletId}`, token: wallet.token };
  };
  return [
    { name: "deposit, 1 connection", connections: 1, build: deposit },
    { name: "GET wallet, 1 connection", connections: 1, build: get },
    { name: "deposit", build: deposit },
    {
      name: "transfer (same cell)",
      // 0.01 .. 5.00 from a random wallet (its owner's token) to another of the same cell.
      build: (random) => () => {
        const from = pickFrom(random, wallets);
        let to = pickFrom(random, wallets);
        while (to === from) to = pickFrom(random, wallets);
        return asRequest(transferOp(from, to, BigInt(1 + Math.floor(random() * 500))));
      },
    },
    { name: "GET wallet", build: get },
  ];
}

/** 0.01 .. 5.00 from a random wallet of either cell to a random wallet of the other cell. */
export function crossCellScenario(a: BenchWallet[], b: BenchWallet[]): Scenario {
  return {
    name: "transfer (cross-cell)",
    build: (random) => () => {
      const fromA = random() < 0.5;
      const from = pickFrom(random, fromA ? a : b);
      const to = pickFrom(random, fromA ? b : a);
      return asRequest(transferOp(from, to, BigInt(1 + Math.floor(random() * 500))));
    },
  };
}
