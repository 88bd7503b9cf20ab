import { type CreditRequest, INTERNAL_CREDIT_PATH, mintToken, SCOPES } from "@cellwallet/contract";
import { injectTraceContext, SpanKind, withSpan } from "@cellwallet/telemetry";
import type { CreditResult, TransferCreditor } from "../../application/transfer-creditor.js";

export interface HttpCreditorOptions {
  /** The router's base URL (cells reach each other only through the router). */
  routerUrl: string;
  cellId: string;
  internalSecret: string;
  timeoutMs: number;
}

const TOKEN_TTL_SECONDS = 300;

/** Calls the destination cell's credit endpoint through the router with a short-lived service token. */
export class HttpTransferCreditor implements TransferCreditor {
  private token: { value: string; expiresAt: number } | undefined;

  constructor(private readonly options: HttpCreditorOptions) {}

  private async serviceToken(): Promise<string> {
    const now = Date.now();
    if (!this.token || this.token.expiresAt - now < 60_000) {
      const value = await mintToken({
        sub: `cell:${this.options.cellId}`,
        scopes: [SCOPES.internal],
        secret: this.options.internalSecret,
        ttlSeconds: TOKEN_TTL_SECONDS,
      });
      this.token = { value, expiresAt: now + TOKEN_TTL_SECONDS * 1000 };
    }
    return this.token.value;
  }

  credit(request: CreditRequest, requestId: string): Promise<CreditResult> {
    // A CLIENT span whose context travels in traceparent: router → destination cell join this trace.
    return withSpan(
      "cross-cell credit",
      { "cell.id": this.options.cellId, "cellwallet.transfer_id": request.transferId },
      () => this.send(request, requestId),
      SpanKind.CLIENT,
    );
  }

  private async send(request: CreditRequest, requestId: string): Promise<CreditResult> {
    let response: Response;
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${await this.serviceToken()}`,
        "content-type": "application/json",
        "x-request-id": requestId.slice(0, 128).replace(/[^A-Za-z0-9._:-]/g, "-"),
        // The credit is idempotent by transfer id; the key lets the router retry it on another AZ.
        "idempotency-key": `credit-${request.transferId}`,
      };
      injectTraceContext(headers);
      response = await fetch(new URL(INTERNAL_CREDIT_PATH, this.options.routerUrl), {
        method: "POST",
        headers,
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      return { kind: "unavailable", reason: error instanceof Error ? error.message : String(error) };
    }
    const text = await response.text().catch(() => "");
    if (response.status === 200 || response.status === 201) {
      try {
        const body = JSON.parse(text) as { toUserId?: unknown; transferId?: unknown };
        if (typeof body.toUserId === "string" && body.transferId === request.transferId) {
          return { kind: "credited", toUserId: body.toUserId };
        }
      } catch {
        // fall through: an answer we cannot read proves nothing
      }
      return { kind: "unavailable", reason: "unreadable credit confirmation" };
    }
    // Only these two answers are definitive refusals; anything else may still succeed later.
    let code: unknown;
    let detail = "";
    try {
      const body = JSON.parse(text) as { code?: unknown; detail?: unknown };
      code = body.code;
      detail = typeof body.detail === "string" ? body.detail : "";
    } catch {
      code = undefined;
    }
    if (response.status === 404 && code === "wallet-not-found") return { kind: "refused", code, detail };
    if (response.status === 422 && code === "currency-mismatch") return { kind: "refused", code, detail };
    return { kind: "unavailable", reason: `HTTP ${response.status} ${String(code ?? "")}` };
  }
}
