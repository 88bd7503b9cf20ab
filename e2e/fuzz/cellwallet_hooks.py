"""Schemathesis hooks for the Cellwallet public API (see schemathesis.toml beside this file)."""

import uuid

import schemathesis

LIST_TRANSACTIONS = "GET /api/v1/wallets/{walletId}/transactions"


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
    # Generated keys repeat ("0", "00"...), and a key already used for another body is a stored 422: keep the
    # generated key's shape but make it unique, so that positive cases reach the operations themselves.
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) and headers[name]:
            headers[name] = f"{headers[name][:200]}-{uuid.uuid4().hex}"
    return case
