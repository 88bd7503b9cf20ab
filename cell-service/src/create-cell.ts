import { createTokenVerifier } from "@cellwallet/contract";
import type { OpenAPIHono } from "@hono/zod-openapi";
import pino, { type Logger } from "pino";
import { monotonicFactory } from "ulid";
import { createCellApp } from "./adapters/http/app.js";
import { ClientIpResolver } from "./adapters/http/client-ip.js";
import type { CellEnv } from "./adapters/http/context.js";
import { CellMetrics } from "./adapters/http/metrics.js";
import { HttpTransferCreditor } from "./adapters/router-client/http-transfer-creditor.js";
import { CheckpointJob } from "./application/checkpoint-job.js";
import { InFlight } from "./application/idempotency.js";
import type { LedgerStore } from "./application/ledger-store.js";
import type { CellDeps } from "./application/operation-context.js";
import { PendingTransferWorker } from "./application/pending-transfer-worker.js";
import { VerificationJob } from "./application/verification-job.js";
import { bufferedRandom } from "./buffered-random.js";
import type { CellConfig } from "./config.js";

export interface Cell {
  /** Writes signed checkpoints (present unless CHECKPOINT_INTERVAL_MS=0). */
  checkpoints?: CheckpointJob;
  /** Verifies the whole cell periodically (present when VERIFY_INTERVAL_MS > 0). */
  verification?: VerificationJob;
  /** Finishes cross-cell transfers left pending (present when cross-cell transfers are configured). */
  worker?: PendingTransferWorker;
  app: OpenAPIHono<CellEnv>;
  deps: CellDeps;
  metrics: CellMetrics;
  logger: Logger;
  /** Marks the cell not ready (drain before shutdown). */
  setReady(ready: boolean): void;
}

export function createLogger(config: Pick<CellConfig, "cellId" | "az" | "logLevel">): Logger {
  return pino({
    level: config.logLevel,
    base: { service: "cell-service", cellId: config.cellId, az: config.az },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    messageKey: "msg",
    // Defence in depth: these never belong in a log line.
    redact: ["req.headers.authorization", "authorization", "token", "secret"],
  });
}

/** Wires one cell process: the store, the use cases' dependencies and the HTTP app. */
export function createCell(config: CellConfig, store: LedgerStore, logger = createLogger(config)): Cell {
  const metrics = new CellMetrics(config.cellId, config.az, config.version);
  const ulid = monotonicFactory(bufferedRandom());
  const deps: CellDeps = {
    cellId: config.cellId,
    store,
    newId: () => ulid(),
    inFlight: new InFlight(),
    idempotencyRetentionMs: config.idempotencyRetentionMs,
    checkpointKeys: config.checkpointTrustedKeys,
    onOperation: (type, outcome, code) => {
      metrics.operations.inc({ type, outcome });
      if (code !== undefined) metrics.ops.refusals.inc({ type, code });
    },
  };
  store.observe?.(metrics.ops.storeObserver());
  metrics.ops.scrapeFrom({
    store,
    startedAt: Date.now(),
    checkpointIntervalMs: config.checkpointIntervalMs,
    verifyIntervalMs: config.verifyIntervalMs,
  });
  let worker: PendingTransferWorker | undefined;
  if (config.crossCell) {
    const creditor = new HttpTransferCreditor({
      routerUrl: config.crossCell.routerUrl,
      cellId: config.cellId,
      internalSecret: config.internalSecret,
      timeoutMs: config.crossCell.creditTimeoutMs,
    });
    deps.creditor = creditor;
    worker = new PendingTransferWorker(deps, creditor, logger, {
      intervalMs: config.crossCell.retryIntervalMs,
      minAgeMs: config.crossCell.creditTimeoutMs,
      batch: 50,
    });
  }
  const checkpoints =
    config.checkpointIntervalMs > 0
      ? new CheckpointJob(
          store,
          {
            cellId: config.cellId,
            signer: config.checkpointSigner,
            intervalMs: config.checkpointIntervalMs,
            newId: () => ulid(),
          },
          logger,
        )
      : undefined;
  const verification =
    config.verifyIntervalMs > 0
      ? new VerificationJob(
          store,
          {
            cellId: config.cellId,
            intervalMs: config.verifyIntervalMs,
            trustedKeys: config.checkpointTrustedKeys,
            onReport: (report) => {
              metrics.verificationInvalidWallets.set(report.invalidCount);
              metrics.verificationCheckpointsValid.set(report.checkpoints.valid ? 1 : 0);
              metrics.verificationLastRun.set(Date.parse(report.finishedAt) / 1000);
              metrics.verificationDuration.set(report.durationMs / 1000);
            },
          },
          logger,
        )
      : undefined;
  let ready = true;
  const app = createCellApp({
    deps,
    metrics,
    logger,
    version: config.version,
    ...(config.instance ? { instance: config.instance } : {}),
    az: config.az,
    verifyToken: createTokenVerifier(config.jwt),
    verifyInternalToken: createTokenVerifier({ kind: "hs256", secret: config.internalSecret }),
    clientIp: new ClientIpResolver(config.trustedProxies),
    ready: async () => {
      if (!ready) return false;
      try {
        await store.ping();
        return true;
      } catch {
        return false;
      }
    },
  });
  return {
    app,
    deps,
    metrics,
    logger,
    setReady: (r) => (ready = r),
    ...(worker ? { worker } : {}),
    ...(checkpoints ? { checkpoints } : {}),
    ...(verification ? { verification } : {}),
  };
}
