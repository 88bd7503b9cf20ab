/**
 * The cell's group-commit figures from its /metrics (read between scenarios only): how many SQLite
 * group commits a scenario made, how many operations shared one, and how busy the cell's SQLite writer
 * thread was with them (a group commit runs there, fsync included, while the request thread goes on).
 */

export interface CommitSnapshot {
  commits: number;
  operations: number;
  transactionSeconds: number;
  commitSeconds: number;
}

export interface CommitFigures {
  commits: number;
  /** Operations per group commit (one fsync each). */
  meanBatch: number;
  /** Mean ms of the COMMIT statement (WAL write + fsync). */
  meanCommitMs: number;
  /** Mean ms of a whole group commit (BEGIN to the end of COMMIT). */
  meanTransactionMs: number;
  /** Share of the scenario's wall time the cell's writer thread spent inside group commits. */
  writerShare: number;
}

const value = (text: string, name: string) => {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
};

export async function scrapeCommits(cellUrl: string): Promise<CommitSnapshot | undefined> {
  try {
    const res = await fetch(`${cellUrl}/metrics`);
    if (res.status !== 200) return undefined;
    const text = await res.text();
    return {
      commits: value(text, "cellwallet_sqlite_commit_operations_count"),
      operations: value(text, "cellwallet_sqlite_commit_operations_sum"),
      transactionSeconds: value(text, "cellwallet_sqlite_transaction_duration_seconds_sum"),
      commitSeconds: value(text, "cellwallet_sqlite_commit_duration_seconds_sum"),
    };
  } catch {
    return undefined;
  }
}

export function commitDelta(
  before: CommitSnapshot | undefined,
  after: CommitSnapshot | undefined,
  wallSeconds: number,
): CommitFigures | undefined {
  if (!before || !after) return undefined;
  const commits = after.commits - before.commits;
  if (commits <= 0) return undefined;
  return {
    commits,
    meanBatch: (after.operations - before.operations) / commits,
    meanCommitMs: (1000 * (after.commitSeconds - before.commitSeconds)) / commits,
    meanTransactionMs: (1000 * (after.transactionSeconds - before.transactionSeconds)) / commits,
    writerShare: (after.transactionSeconds - before.transactionSeconds) / wallSeconds,
  };
}

export function commitText(f: CommitFigures): string {
  return (
    `group commits: ${f.commits}, ${f.meanBatch.toFixed(1)} operations each; COMMIT (WAL write + fsync) ` +
    `${f.meanCommitMs.toFixed(2)} ms, whole transaction ${f.meanTransactionMs.toFixed(2)} ms; ` +
    `the writer thread spent ${(100 * f.writerShare).toFixed(0)}% of the run inside group commits`
  );
}
