"""Schemathesis hooks for the Cellwallet public API (see schemathesis.toml at the repository's root)."""

import os
import uuid
import zlib

import schemathesis

LIST_TRANSACTIONS = "GET /api/v1/wallets/{walletId}/transactions"
TRANSFER = "POST /api/v1/wallets/transfer"

# Wallets the test created on the target: the payer belongs to the token's own user (only an owner may send
# from a wallet) and is funded; the payees are other users' wallets (one in another currency).
PAYER = os.environ.get("CELLWALLET_FUZZ_PAYER", "")
PAYEES = [w for w in os.environ.get("CELLWALLET_FUZZ_PAYEES", "").split(",") if w]


def pick(value, count):
    """A deterministic choice from a generated value, so that a seed still means one run."""
    return zlib.crc32(str(value).encode("utf-8", "surrogatepass")) % count


def transfer_between_known_wallets(body):
    """
    A transfer needs two existing wallets, which no link can supply (a response names one wallet), so random
    ids only ever reach 404 wallet-not-found. Positive transfers are sent from the test's funded wallet to one
    of its payees instead (one case in four keeps its generated ids, so unknown wallets stay covered), so that
    the transfer itself runs: 201, a cross-cell 202, 422 insufficient-funds, amount-precision or
    currency-mismatch; and the stateful phase follows its links to GET /transfers/{transferId}.
    """
    if not PAYER or not PAYEES or not isinstance(body, dict):
        return
    choice = pick(body.get("toWalletId"), 4 * len(PAYEES))
    if choice < len(PAYEES):
        return
    body["fromWalletId"] = PAYER
    body["toWalletId"] = PAYEES[choice % len(PAYEES)]


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if not positive:
        return case
    # A cursor is opaque: only a nextCursor the API returned for this wallet is valid, and the document says
    # any other value is 400. No schema can describe "returned by the server", so positive cases do not invent
    # one (negative cases still send malformed ones, which must be 400).
    if case.operation.label == LIST_TRANSACTIONS and case.query and "cursor" in case.query:
        del case.query["cursor"]
    if case.operation.label == TRANSFER:
        transfer_between_known_wallets(case.body)
    # Generated keys repeat ("0", "00"...), and a key already used for another body is a stored 422: keep the
    # generated key's shape but make it unique, so that positive cases reach the operations themselves.
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) and headers[name]:
            headers[name] = f"{headers[name][:200]}-{uuid.uuid4().hex}"
    return case
