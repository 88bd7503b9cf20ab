// The README's "Try it" journey with @cellwallet/client (after `npm run build`, with `npm start` running):
//   ALICE=$(npx cellctl token --sub alice) OPS=$(npx cellctl token --sub ops-1 --scope wallet:operator) \
//     node client/examples/try-it.mjs
// CELLWALLET_URL chooses the router (default http://localhost:8080).
import { CellwalletClient, ProblemError } from "@cellwallet/client";

const baseUrl = process.env.CELLWALLET_URL ?? "http://localhost:8080";
const alice = new CellwalletClient({ baseUrl, token: process.env.ALICE ?? "" });
const ops = new CellwalletClient({ baseUrl, token: process.env.OPS ?? "" });

// alice's wallet (created once; a second run finds it), and bob's, created by an operator.
const wallet = await alice.getOrCreateWallet({ userId: "alice" });
const bob = await ops.getOrCreateWallet({ userId: "bob" });

// Every POST carries an Idempotency-Key, reused on every retry; pass your own to make a re-run safe too.
await alice.deposit(wallet.walletId, { amount: "100.00", reference: "salary" }, { idempotencyKey: "salary-2026-11" });
await alice.withdraw(wallet.walletId, { amount: "12.50" });

// A cross-cell transfer may answer PENDING first: transferAndWait polls it until COMPLETED or FAILED.
const transfer = await alice.transferAndWait({
  fromWalletId: wallet.walletId,
  toWalletId: bob.walletId,
  amount: "20.00",
});
console.log(`transfer ${transfer.transferId}: ${transfer.status}`);

try {
  await alice.withdraw(wallet.walletId, { amount: "1000000.00" });
} catch (error) {
  if (!(error instanceof ProblemError)) throw error;
  console.log(`refused as expected: ${error.status} ${error.code}`);
}

const now = await alice.getWallet(wallet.walletId);
console.log(`balance ${now.balance} ${now.currency} after ${now.version} entries`);
for await (const entry of alice.transactions(wallet.walletId, { limit: "10" })) {
  console.log(`  #${entry.sequence} ${entry.type} ${entry.amount} -> ${entry.balanceAfter}`);
}
const atStart = await alice.historicalBalance(wallet.walletId, now.createdAt);
console.log(`balance when the wallet was created: ${atStart.balance}`);

// The chain, verified here from the public pages (every hash recomputed), and by the server.
const verified = await alice.verifyWalletChain(wallet.walletId);
const audit = await alice.audit(wallet.walletId);
console.log(
  `chain verified offline: ${verified.valid} (${verified.entries} entries, head ${verified.headHash.slice(0, 12)}…); server audit: ${audit.valid}`,
);
if (!verified.valid || !verified.matchesWallet) process.exitCode = 1;
