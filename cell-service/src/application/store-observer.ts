/**
 * What a store adapter reports about its own calls, for metrics and traces. Every method is called on the
 * hot path: implementations only observe a histogram or increment a counter, and never throw.
 */
export interface StoreObserver {
  /** One SQLite group commit: the whole transaction, the COMMIT alone (WAL write + fsync), operations in it. */
  sqliteCommit?(transactionSeconds: number, commitSeconds: number, operations: number): void;
  /**
   * One DynamoDB call as the store sees it (the SDK's own retries included); `sdkRetries` = attempts - 1,
   * `throttled` when it finally failed on throughput (or a transaction was cancelled for throttling).
   */
  dynamoDbCall?(operation: string, seconds: number, sdkRetries: number, throttled: boolean): void;
  /** A commit re-read and re-decided after a conflict (DynamoDB's optimistic commit loop; SQLite's writer thread finding a decision stale). */
  contentionRetry?(): void;
}
