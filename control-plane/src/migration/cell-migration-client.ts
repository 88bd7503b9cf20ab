import {
  type AbandonRequest,
  type ActivateRequest,
  type FreezeRequest,
  type ImportRequest,
  type MarkMovedRequest,
  MIGRATION_PATH_PREFIX,
  type MigrationExportPage,
  type MigrationWalletStatus,
  type UnfreezeRequest,
} from "@cellwallet/contract";
import type { CellRecord } from "@cellwallet/placement";
import { injectTraceContext } from "@cellwallet/telemetry";

/**
 * cellctl's HTTP client for a cell's internal migration endpoints. Every call
 * goes to the cell's replicas in order (in-service AZs first); a replica that
 * does not answer, or answers 5xx, is skipped for the next one, and when every
 * replica failed the whole round is retried with backoff until the retry budget
 * is spent. Safe because every migration endpoint is idempotent.
 *
 * A 4xx is the cell's definitive answer (wrong state or epoch, chain mismatch):
 * it is returned as a value for the orchestrator to decide on, never retried.
 */

export type CellAnswer<T> =
  | { ok: true; status: number; body: T; url: string }
  | { ok: false; status: number; code: string; detail: string; url: string };

/** Every replica of the cell failed for the whole retry budget: an outage, not an answer. */
export class CellUnreachableError extends Error {
  override readonly name = "CellUnreachableError";
}

export interface CellMigrationClientOptions {
  /** A bearer token with scope wallet:internal (minted per call by the caller's function, so it never expires mid-run). */
  token: () => Promise<string>;
  /** Timeout of one HTTP exchange with one replica. */
  requestTimeoutMs?: number;
  /** How long to keep retrying a cell whose replicas all fail. */
  retryBudgetMs?: number;
  /** Fresh registry record of a cell before each retry round (endpoints may change during an incident). */
  refreshCell?: (cellId: string) => Promise<CellRecord | undefined>;
  /** Told about every replica failure (progress output). */
  onReplicaFailure?: (cellId: string, url: string, reason: string) => void;
}

/** In-service replicas first (by weight), evacuated ones last: they may still answer an internal call. */
export function replicaOrder(cell: CellRecord): string[] {
  return [...cell.endpoints]
    .sort((a, b) => (b.weight > 0 ? 1 : 0) - (a.weight > 0 ? 1 : 0) || b.weight - a.weight || a.az.localeCompare(b.az))
    .map((e) => e.url.replace(/\/$/, ""));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CellMigrationClient {
  private readonly requestTimeoutMs: number;
  private readonly retryBudgetMs: number;

  constructor(private readonly options: CellMigrationClientOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.retryBudgetMs = options.retryBudgetMs ?? 30_000;
  }

  status(cell: CellRecord, userId: string) {
    return this.call<MigrationWalletStatus>(cell, "GET", this.path(userId));
  }

  exportPage(cell: CellRecord, userId: string, cursor: string | undefined, limit: number) {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor !== undefined ? { cursor } : {}) });
    return this.call<MigrationExportPage>(cell, "GET", `${this.path(userId)}/export?${query}`);
  }

  freeze(cell: CellRecord, userId: string, body: FreezeRequest) {
    return this.call<MigrationWalletStatus>(cell, "POST", `${this.path(userId)}/freeze`, body);
  }

  settle(cell: CellRecord, userId: string) {
    return this.call<MigrationWalletStatus>(cell, "POST", `${this.path(userId)}/settle`, {});
  }

  unfreeze(cell: CellRecord, userId: string, body: UnfreezeRequest) {
    return this.call<MigrationWalletStatus>(cell, "POST", `${this.path(userId)}/unfreeze`, body);
  }

  import(cell: CellRecord, userId: string, body: ImportRequest) {
    return this.call<unknown>(cell, "POST", `${this.path(userId)}/import`, body);
  }

  activate(cell: CellRecord, userId: string, body: ActivateRequest) {
    return this.call<MigrationWalletStatus>(cell, "POST", `${this.path(userId)}/activate`, body);
  }

  abandon(cell: CellRecord, userId: string, body: AbandonRequest) {
    return this.call<unknown>(cell, "POST", `${this.path(userId)}/abandon`, body);
  }

  markMoved(cell: CellRecord, userId: string, body: MarkMovedRequest) {
    return this.call<MigrationWalletStatus>(cell, "POST", `${this.path(userId)}/moved`, body);
  }

  private path(userId: string): string {
    return `${MIGRATION_PATH_PREFIX}/${encodeURIComponent(userId)}`;
  }

  private async call<T>(cell: CellRecord, method: string, path: string, body?: unknown): Promise<CellAnswer<T>> {
    const deadline = Date.now() + this.retryBudgetMs;
    let current = cell;
    const failures: string[] = [];
    for (let round = 0; ; round++) {
      for (const base of replicaOrder(current)) {
        const url = `${base}${path}`;
        const answer = await this.once<T>(url, method, body).catch((error: Error) => error);
        if (!(answer instanceof Error)) return answer;
        failures.push(`${base}: ${answer.message}`);
        this.options.onReplicaFailure?.(cell.cellId, base, answer.message);
      }
      if (Date.now() >= deadline) {
        throw new CellUnreachableError(
          `cell ${cell.cellId}: no replica answered ${method} ${path.split("?")[0]} (${failures.slice(-3).join("; ") || "no endpoints"})`,
        );
      }
      await sleep(Math.min(1_000, 100 * 2 ** round));
      current = (await this.options.refreshCell?.(cell.cellId).catch(() => undefined)) ?? current;
    }
  }

  /** One exchange with one replica: an answer (2xx or 4xx), or an Error to try the next replica. */
  private async once<T>(url: string, method: string, body: unknown): Promise<CellAnswer<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await this.options.token()}`,
      "x-request-id": `cellctl-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    };
    injectTraceContext(headers);
    const response = await fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    const text = await response.text();
    if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      throw new Error(`HTTP ${response.status} with a body that is not JSON`);
    }
    if (response.status >= 200 && response.status < 300) {
      return { ok: true, status: response.status, body: parsed as T, url };
    }
    const p = (parsed ?? {}) as { code?: unknown; detail?: unknown };
    return {
      ok: false,
      status: response.status,
      code: typeof p.code === "string" ? p.code : `http-${response.status}`,
      detail: typeof p.detail === "string" ? p.detail : text.slice(0, 200),
      url,
    };
  }
}
